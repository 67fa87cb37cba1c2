#pragma once
// Brain-Score-style neural predictivity: a metric (regression + cross-validation + per-neuroid
// Pearson r) that is a pure function of (model features, neural responses); the internal
// consistency ceiling of the responses; and a benchmark that binds responses, metric and
// ceiling and reports raw, ceiling and each named normalisation side by side.
#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "compare/banded_ridge.hpp"
#include "compare/features.hpp"
#include "compare/regression.hpp"
#include "compare/response_rows.hpp"
#include "io/neural_responses.hpp"

namespace lrm::compare {

// Seeded stratified shuffle splits: in each split, every category gives round(test_fraction * n_c)
// of its stimuli (at least 1 when it has 2 or more) to the test set. No categories: unstratified.
std::vector<Split> stratified_shuffle_splits(Eigen::Index n,
                                             const std::vector<std::string>& categories,
                                             int n_splits, double test_fraction,
                                             std::uint64_t seed);

struct PredictivityOptions {
  Regression regression = Regression::pls;
  int pls_components = 25;
  int splits = 10;
  double test_fraction = 0.1;
  std::uint64_t seed = 0;
  std::vector<double> alphas;         // ridgecv, banded: the penalties (default 1e-2:1e6:20)
  int n_iter = 100;                   // banded: candidate group ratios (seeded by `seed`)
  std::vector<std::string> test_ids;  // when given, one fixed split: these test, the rest train
  std::vector<Split> fixed_splits;    // used instead of shuffled splits when given
  // One MPI rank's share of a model: only splits s with s % split_ranks == split_rank are fitted
  // (each split's fit depends on that split alone); the other rows of r and penalty stay NaN and
  // the summary is left to summarise_predictivity once every split's rows are gathered. PLS fits
  // a share's splits together in batched products, so its last bits depend on the share.
  int split_rank = 0, split_ranks = 1;
  // Or its share of the neuroids (ridgecv only): the contiguous whole target blocks of
  // fitted_neuroids (compare/model_share.hpp); the other columns of r and penalty stay NaN.
  int neuroid_rank = 0, neuroid_ranks = 1;
};

struct Predictivity {
  Eigen::MatrixXd r;  // split x neuroid, held-out Pearson r (NaN: undefined)
  Eigen::VectorXd median_per_split;
  double score = 0;            // mean over splits of the median over neuroids
  double error = 0;            // std over splits (ddof 0, as Brain-Score) / sqrt(splits)
  int undefined_neuroids = 0;  // neuroids with an undefined r in some split (left out of medians)
  int components_used = 0;     // PLS: the fewest components any split fitted
  Eigen::MatrixXd penalty;     // ridgecv: split x neuroid, the chosen penalty
  std::vector<Eigen::MatrixXd> group_penalty;  // banded: per split, group x neuroid
};

// The per-split medians, score, error and undefined neuroids from r (an InputError when no
// neuroid has a defined r).
void summarise_predictivity(Predictivity& p);

// x: model features; model_rows[s]: the row of x for joined stimulus s; responses: stimulus x
// neuroid in the same order (NaN is an InputError: average repetitions first).
Predictivity neural_predictivity(const FeatureMatrix& x, const Rows& model_rows,
                                 const ResponseRows& responses,
                                 const std::vector<std::string>& categories,
                                 const PredictivityOptions& options);

// The same metric from the Gram matrix of the model's features over the stimuli of `responses`
// (in their order): ridge and least squares in their kernel form (see kernel_predict), for
// layers with more features than stimuli, whose features need never be in memory.
Predictivity neural_predictivity_gram(const Eigen::MatrixXd& gram, const ResponseRows& responses,
                                      const std::vector<std::string>& categories,
                                      const PredictivityOptions& options);

// Banded ridge over feature groups (see banded_ridge.hpp) from each group's Gram matrix over the
// stimuli of `responses`, in their order; the inner folds are over each split's training stimuli.
Predictivity neural_predictivity_banded(const std::vector<Eigen::MatrixXd>& grams,
                                        const ResponseRows& responses,
                                        const std::vector<std::string>& categories,
                                        const PredictivityOptions& options);

struct InternalConsistency {
  double ceiling = 0;  // mean over halvings of the median over neuroids
  Eigen::VectorXd per_halving;
  Eigen::VectorXd per_neuroid;  // mean over halvings of the Spearman-Brown corrected r
  int undefined_neuroids = 0;
  int halvings = 0;
};
// Split-half over repetitions: each stimulus's presentations are split in random halves, each
// half averaged (NaN skipped), r per neuroid between halves over stimuli, Spearman-Brown 2r/(1+r).
InternalConsistency internal_consistency(const io::NeuralResponses& responses, int halvings,
                                         std::uint64_t seed);

struct CeiledScore {
  double raw = 0, ceiling = 0;
  double ceiled = 0;                     // r / c
  double ceiled_squared = 0;             // (r / c)^2
  double explained_variance_ceiled = 0;  // r^2 / c
};
CeiledScore ceil_score(double raw, double ceiling);

// A Brain-Score-style benchmark: neural data + metric + ceiling, scored against model features.
class EncodingBenchmark {
 public:
  EncodingBenchmark(io::NeuralResponses responses, PredictivityOptions metric, int halvings);
  const io::NeuralResponses& responses() const { return responses_; }
  const InternalConsistency& ceiling() const { return ceiling_; }
  const PredictivityOptions& metric() const { return metric_; }
  struct Result {
    Predictivity predictivity;
    CeiledScore score;
  };
  // model_ids: the stimulus id of each row of x (joined to the neural stimuli by id).
  Result score(const FeatureMatrix& x, const std::vector<std::string>& model_ids,
               const std::string& model_name) const;
  // The stimuli score() joins: the model's ids to those of the responses.
  io::StimulusJoin join(const std::vector<std::string>& model_ids,
                        const std::string& model_name) const;
  // score() from the Gram matrix of the model's features over join.model_rows, in that order
  // (ridge and least squares; see neural_predictivity_gram).
  Result score_gram(const Eigen::MatrixXd& gram, const io::StimulusJoin& join) const;
  // Banded ridge from each feature group's Gram over join.model_rows, in that order.
  Result score_banded(const std::vector<Eigen::MatrixXd>& grams,
                      const io::StimulusJoin& join) const;

 private:
  struct Joined {
    ResponseRows y;  // the mean responses in the join's order, not copied
    std::vector<std::string> categories;
  };
  Joined joined(const io::StimulusJoin& join) const;
  using JoinedPredictivity = std::function<Predictivity(const Joined&, const PredictivityOptions&)>;
  // The predictivity over the joined stimuli (with metric_for's metric), and its ceiled score.
  Result scored(const io::StimulusJoin& join, const JoinedPredictivity& predictivity) const;
  // The metric with the split of its test ids over the joined stimuli, if it has test ids.
  PredictivityOptions metric_for(const io::StimulusJoin& join) const;
  io::NeuralResponses responses_;
  PredictivityOptions metric_;
  InternalConsistency ceiling_;
};

}  // namespace lrm::compare
