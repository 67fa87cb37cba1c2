#pragma once
// Weighted RSA and variance partitioning of RDMs over the same stimuli (upper triangles).
// Weighted RSA fits a non-negative combination of component RDMs (model layers, passes, RDMs from
// files) plus an intercept to the brain RDM by non-negative least squares (rsatoolbox's
// ModelWeighted fitted as fit_regress_nn does), cross-validated over stimuli and subjects: weights
// are fitted on the pairs of training stimuli of the mean RDM of the training subjects and scored
// on the pairs of held-out stimuli of each held-out subject. Variance partitioning (Net2Brain's
// VPA) splits the R^2 of a least-squares fit of 2 or 3 predictor RDMs into the part each explains
// alone and the parts they share, with percentile CIs from a bootstrap over stimuli.
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "io/h5.hpp"
#include "stats/correlation.hpp"

namespace lrm::compare {

// argmin |A x - b| subject to x >= 0 (Lawson and Hanson's active-set algorithm).
Eigen::VectorXd nnls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b);

struct WeightedRsaOptions {
  stats::Correlation comparison = stats::Correlation::pearson;
  int folds = 5;  // stimulus folds
  std::uint64_t seed = 0;
};
struct WeightedRsa {
  Eigen::VectorXd weights;  // fitted on every stimulus and subject
  double intercept = 0;
  double score = 0;            // cross-validated: mean over folds of the held-out comparison
  Eigen::VectorXd fold_score;  // per (subject fold, stimulus fold)
  int subject_folds = 0;
};
// `components` and `subjects`: n x n RDMs of the same stimuli (an InputError otherwise).
WeightedRsa weighted_rsa(const std::vector<Eigen::MatrixXd>& components,
                         const std::vector<Eigen::MatrixXd>& subjects,
                         const WeightedRsaOptions& options);

struct VariancePartition {
  std::vector<std::string> parts;  // "unique 1", "shared 1+2", ... (predictors numbered from 1)
  Eigen::VectorXd value, low, high;
  Eigen::VectorXd r2;  // R^2 of every non-empty subset, in bitmask order 1..2^k-1
  int resamples = 0;
};
// Variance partitioning of `target` by 2 or 3 predictor RDMs; `resamples` stimulus resamples for
// 95% percentile CIs (0: none).
VariancePartition partition_variance(const std::vector<Eigen::MatrixXd>& predictors,
                                     const Eigen::MatrixXd& target, int resamples,
                                     std::uint64_t seed);

struct WeightedRunOptions {
  std::string brain;                    // brain RDMs (as compare rsa's --brain)
  std::vector<std::string> components;  // files of component RDMs (each may hold several)
  WeightedRsaOptions fit;
  bool partition = false;  // variance partitioning of the components (2 or 3)
  int resamples = 0;       // bootstrap resamples for the partition's CIs
};
// Writes /weighted (and /weighted/vpa); returns summary lines. Components with stimulus ids are
// matched to the brain's; components of other stimuli are an InputError naming their file.
std::vector<std::string> run_weighted(const WeightedRunOptions& options, const h5::Group& root);

}  // namespace lrm::compare
