#pragma once
// Weighted RSA and variance partitioning of RDMs over the same stimuli (upper triangles).
// Weighted RSA fits non-negative weights of component RDMs (model layers, passes, RDMs from files)
// to the brain RDMs, cross-validated over stimuli and subjects as rsatoolbox's crossval with
// sets_k_fold does: weights fitted on the training subjects' RDMs over the pairs of training
// stimuli, scored on the held-out subjects over the pairs of held-out stimuli (mean over subjects).
// The default fit is rsatoolbox's ModelWeighted fitted by fit_optimize_positive: the weights that
// maximise the mean comparison (pearson or cosine) with the subjects' RDMs, without an intercept.
// It is solved exactly rather than by BFGS on squared parameters: for w >= 0 that mean is
// w'b / sqrt(w'Sw) (S = X'X, b = X'ybar, X the component vectors and ybar the mean of the subjects'
// unit-norm vectors, all centred for pearson), and the non-negative least-squares fit of ybar by X
// meets the KKT conditions of that quasi-concave ratio on the orthant, so it is its maximum. The
// other fit, nnls, is least squares of the subjects' mean RDM with an intercept (rsatoolbox's
// fit_regress_nn plus an intercept). Variance partitioning (Net2Brain's VPA) splits the R^2 of a
// least-squares fit of 2 or 3 predictor RDMs into the part each explains alone and the parts they
// share, with percentile CIs from a bootstrap over stimuli.
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "common/names.hpp"
#include "compare/rdm.hpp"
#include "io/h5.hpp"
#include "stats/correlation.hpp"

namespace lrm::compare {

// argmin |A x - b| subject to x >= 0 (Lawson and Hanson's active-set algorithm).
Eigen::VectorXd nnls(const Eigen::MatrixXd& a, const Eigen::VectorXd& b);

enum class WeightFit { optimize, nnls };
inline const Names<WeightFit> weight_fit_names{{"optimize", WeightFit::optimize},
                                               {"nnls", WeightFit::nnls}};

// Unit-norm non-negative weights of the columns of `x` (component vectors) maximising the mean
// `comparison` (pearson or cosine) with the columns of `y` (subjects); the fit of optimize.
Eigen::VectorXd fit_positive_weights(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y,
                                     stats::Correlation comparison);
// The mean comparison of x w with the columns of y (the objective of that fit).
double mean_comparison(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, const Eigen::VectorXd& w,
                       stats::Correlation comparison);
// rsatoolbox's k-fold groups of `order`: k runs of floor(n / k) in order, the first n % k groups
// each taking one more from the end.
std::vector<std::vector<Eigen::Index>> fold_groups(const std::vector<Eigen::Index>& order, int k);

struct WeightedRsaOptions {
  stats::Correlation comparison = stats::Correlation::pearson;
  int folds = 5;          // stimulus folds
  int subject_folds = 0;  // 0: rsatoolbox's default_k_rdm (2 below 6 subjects; 1 with one subject)
  WeightFit fit = WeightFit::optimize;
  bool shuffle = true;  // shuffle stimuli and subjects before making folds (rsatoolbox's random)
  std::uint64_t seed = 0;
};
struct WeightedRsa {
  Eigen::VectorXd weights;         // fitted on every stimulus and subject (unit norm for optimize)
  double intercept = 0;            // nnls only
  double objective = 0;            // the fit's mean comparison with the subjects on every stimulus
  double score = 0;                // cross-validated: mean over folds of the held-out comparison
  Eigen::VectorXd fold_score;      // per (subject fold, stimulus fold), subject folds outer
  Eigen::VectorXd fold_objective;  // training objective of each fold's fit
  int subject_folds = 0;
};
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
  std::string brain;  // brain RDMs (as compare rsa's --brain)
  // Files of component RDMs (each may hold several), or activation files (lrm extract's, given
  // without a dataset path): each of their chosen layers x passes is one component, its RDM as
  // compare rsa's model RDM.
  std::vector<std::string> components;
  std::vector<std::string> layers;  // of the activation files (empty: every layer)
  std::vector<int> passes;          // of the activation files (empty: every pass)
  bool allow_partial = false;       // read unfinished activation files' complete rows
  RdmMethod model_rdm = RdmMethod::correlation;
  std::int64_t memory = std::int64_t{4} << 30;  // bytes of activations and products in memory
  WeightedRsaOptions fit;
  bool partition = false;  // variance partitioning of the components (2 or 3)
  int resamples = 0;       // bootstrap resamples for the partition's CIs
};
// Writes /weighted (and /weighted/vpa); returns summary lines. Components with stimulus ids are
// matched to the brain's; components of other stimuli are an InputError naming their file, as
// are ids missing on either side of an activation file's join (as in compare rsa). Components are
// named by their file of RDMs or by <layer>/pass<k> (<file>#<layer>/pass<k> with several
// activation files); two of one name (an input given twice) are a SettingError of "components"
// naming both inputs, before any RDM is made.
std::vector<std::string> run_weighted(const WeightedRunOptions& options, const h5::Group& root);

}  // namespace lrm::compare
