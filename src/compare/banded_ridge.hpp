#pragma once
// Banded ridge regression: feature groups (layers, passes of a layer, unit sets) each with their
// own penalty per target, chosen as himalaya's BandedRidgeCV chooses them (random search on the
// simplex). Each candidate ratio gamma (a point of the simplex over the groups) weights the
// groups' kernels, K = sum_g gamma_g K_g; for that kernel every penalty alpha is solved at once
// from one eigendecomposition per fold of a K-fold split of the training stimuli (contiguous
// folds, as scikit-learn's KFold without shuffling); each target keeps the (ratio, alpha) with
// the smallest mean squared validation error and is refitted on the whole training set. Group
// g's penalty is then alpha / gamma_g (himalaya's exp(-delta_g)). The intercept is fitted and not
// penalised (training-fold centring, himalaya's fit_intercept=True).
#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "compare/regression.hpp"

namespace lrm::compare {

struct BandedRidgeOptions {
  std::vector<double> alphas;  // penalties tried with every ratio
  int n_iter = 100;            // candidate ratios drawn (the first is the uniform one)
  int folds = 5;
  std::uint64_t seed = 0;
  Eigen::MatrixXd ratios;  // candidate x group: used instead of drawn ratios when given
};

// n ratios over `groups`: Dirichlet draws whose concentration alternates 0.1 and 1 (himalaya's
// default), the first replaced by the uniform ratio. Seeded, the same on every platform.
Eigen::MatrixXd dirichlet_ratios(int n, int groups, std::uint64_t seed);

struct BandedRidgePrediction {
  Eigen::MatrixXd prediction;  // test stimulus x target
  Eigen::MatrixXd penalty;     // group x target: alpha / gamma_g
  Eigen::VectorXd alpha;       // per target
  Eigen::MatrixXd ratio;       // group x target: the chosen gamma
  // candidate x target: the mean over folds of minus the mean squared validation error at the
  // candidate's best penalty, plus 1e-10 log(alpha) (larger penalties win ties), as himalaya's
  // cv_scores_.
  Eigen::MatrixXd cv_score;
};

// Trained on `train` with responses y_train, the predictions for `test`, from grams[g] holding
// group g's feature dot products between every pair of stimuli (each shifted by any common
// vector).
BandedRidgePrediction banded_ridge_kernel(const std::vector<Eigen::MatrixXd>& grams,
                                          const Rows& train, const Rows& test,
                                          const Eigen::MatrixXd& y_train,
                                          const BandedRidgeOptions& options);

}  // namespace lrm::compare
