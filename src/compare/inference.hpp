#pragma once
// Inference between models of one RSA run, as rsatoolbox's eval_bootstrap_pattern (stimuli),
// eval_bootstrap_rdm (subjects) and eval_dual_bootstrap (both) with its t-tests for fixed models:
// - each resample scores every model (mean over the drawn subjects, repeats counted) and the
//   noise ceiling (boot_noise_ceiling: leave each distinct drawn subject out, all its copies, of
//   the pooled RDM; the mean over distinct subjects);
// - for both, each draw (subjects, then stimuli) is also scored with only its subjects and with
//   only its stimuli resampled, and rsatoolbox's small-sample formula combines the three
//   covariances; a single-factor covariance is scaled by n / (n - 1) as rsatoolbox does;
// - the tests and CIs are centred on the mean over resamples (for both, the mean of the three
//   bootstraps' means), rsatoolbox's estimate: pairs of models (two-sided, Benjamini-Hochberg
//   across pairs), each model against 0 (one-sided) and against the lower ceiling (two-sided),
//   and the lower ceiling against 0 (one-sided; not in rsatoolbox).
// A resample of fewer than 3 distinct stimuli (rsatoolbox's rule) or, for the ceiling, of one
// distinct subject (where rsatoolbox scores a subject against itself) is left out.
//
// A stimulus resample is exact without forming resampled RDMs: drawing stimulus a c_a times makes
// the pair (a, b) occur c_a c_b times among the resampled pairs (pairs of the same stimulus are
// dropped, as rsatoolbox does), so each comparison is a weighted one over the original pairs
// (compare/pair_weights.hpp).
#include <Eigen/Dense>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/names.hpp"
#include "compare/rsa.hpp"
#include "io/activation_file.hpp"
#include "io/h5.hpp"
#include "stats/correlation.hpp"

namespace lrm::compare {

enum class BootstrapOver { stimuli, subjects, both };
inline const Names<BootstrapOver> bootstrap_over_names{{"stimuli", BootstrapOver::stimuli},
                                                       {"subjects", BootstrapOver::subjects},
                                                       {"both", BootstrapOver::both}};

// Comparison `c` of the multiset of pairs (x_k, y_k), pair k occurring w_k times: the same value as
// stats::correlate on the expanded vectors. Rank comparisons take average ranks over the multiset.
double weighted_correlation(stats::Correlation c, const Eigen::VectorXd& x,
                            const Eigen::VectorXd& y, const Eigen::VectorXd& w);
// The same with x and y already sorted once (`order_x`, `order_y`: their ascending argsorts), so
// each resample costs one pass over the pairs.
double weighted_correlation(stats::Correlation c, const Eigen::VectorXd& x,
                            const std::vector<Eigen::Index>& order_x, const Eigen::VectorXd& y,
                            const std::vector<Eigen::Index>& order_y, const Eigen::VectorXd& w);
// Ascending argsort (stable).
std::vector<Eigen::Index> argsort(const Eigen::VectorXd& x);

struct InferenceOptions {
  stats::Correlation comparison = stats::Correlation::spearman;
  CeilingPool pool = CeilingPool::pooled;
  bool squared = false;
  BootstrapOver over = BootstrapOver::both;
  int resamples = 1000;
  std::uint64_t seed = 0;
  double level = 0.95;
};

struct Inference {
  int dof = 0, valid_resamples = 0;
  // Per model: the score on all data, the mean over resamples, its SD and CI (around the mean).
  Eigen::VectorXd evaluation, evaluation_mean, evaluation_sd, evaluation_low, evaluation_high;
  // Row model's mean minus column model's, with its CI.
  Eigen::MatrixXd difference, difference_low, difference_high;
  Eigen::MatrixXd p_pairwise, p_pairwise_fdr;  // NaN on the diagonal
  Eigen::VectorXd p_vs_zero, p_vs_lower_ceiling;
  double ceiling_lower = 0, ceiling_upper = 0;  // on all data
  double ceiling_lower_mean = 0, ceiling_lower_sd = 0, p_ceiling_vs_chance = 0;
  // resample x (models, lower ceiling, upper ceiling): the main bootstrap, then for both the
  // subject-only and stimulus-only ones of the same draws (empty otherwise). NaN rows: left out.
  Eigen::MatrixXd samples, samples_subjects, samples_stimuli;
};

// The drawn indices of one resample (empty: that factor is not resampled).
struct Draw {
  std::vector<std::int64_t> subjects, stimuli;
};
// Resample b from Resampler::for_resample(seed, b): subjects first, then stimuli.
std::vector<Draw> draw_resamples(std::int64_t stimuli, std::int64_t subjects, BootstrapOver over,
                                 int resamples, std::uint64_t seed);

// Models' RDMs against subjects' RDMs (all n x n over the same stimuli). A subject bootstrap needs
// at least 3 subjects (an InputError). The first form draws options.resamples resamples from
// options.seed; the second takes them (each with the factors `options.over` resamples). Both score
// the draws and summarise the rows as score_resamples and summarise_resamples do.
Inference infer(const std::vector<Eigen::MatrixXd>& models,
                const std::vector<Eigen::MatrixXd>& subjects, const InferenceOptions& options);
Inference infer(const std::vector<Eigen::MatrixXd>& models,
                const std::vector<Eigen::MatrixXd>& subjects, const InferenceOptions& options,
                const std::vector<Draw>& draws);

// The RDMs of an inference checked and prepared (each vector sorted once), with its options: what
// score_resamples and summarise_resamples share, so that a process doing both prepares them once.
struct PreparedInference;
// The checks infer makes before any work (for options.resamples draws), then the preparation.
std::shared_ptr<const PreparedInference> prepare_inference(
    const std::vector<Eigen::MatrixXd>& models, const std::vector<Eigen::MatrixXd>& subjects,
    const InferenceOptions& options);

// The rows of draws [begin, end) of the options.resamples that infer draws: per bootstrap (the
// main one, then for both the subject-only and stimulus-only ones) a matrix resample x (models,
// lower ceiling, upper ceiling). A row depends only on its draw and the RDMs, so ranges scored
// apart (MPI ranks) and stacked in draw order equal the rows of one call over all draws.
std::vector<Eigen::MatrixXd> score_resamples(const PreparedInference& prepared, std::size_t begin,
                                             std::size_t end);
// The scores on all data, and the moments, tests and CIs of every draw's rows (score_resamples'
// matrices, all draws in order).
Inference summarise_resamples(const PreparedInference& prepared, std::vector<Eigen::MatrixXd> rows);

// Before any work: a bootstrap over subjects needs at least 3 subjects' RDMs (an InputError naming
// `source`).
void check_inference_input(const std::string& source, std::size_t subjects, BootstrapOver over);

// Writes r's arrays into /rsa/inference (dimensions model and model_b); returns the summary lines.
std::vector<std::string> write_inference(const h5::Group& rsa,
                                         const std::vector<io::LayerPass>& models,
                                         const Inference& r, const InferenceOptions& options);

}  // namespace lrm::compare
