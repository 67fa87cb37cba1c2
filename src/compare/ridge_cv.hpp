#pragma once
// Ridge regression with one penalty per target chosen by efficient leave-one-out, as
// scikit-learn's RidgeCV(alphas, alpha_per_target=True) (its default generalized cross-validation
// mode, intercept fitted and not penalised): one eigendecomposition per training set gives the
// leave-one-out residuals of every penalty, each target keeps the penalty with the smallest mean
// squared residual (the first on ties), and predicts with it. The residuals are ranked in single
// precision, and again in double for the penalties within a bound on that rounding of the best,
// so the choice is double's. Kernel form (n x n Gram, from the streamed Gram of compare/gram.hpp
// when the features are not in memory) when there are more features than training stimuli,
// primal form (SVD of the centred features) otherwise, as scikit-learn's gcv_mode="auto".
#include <Eigen/Dense>
#include <string>
#include <vector>

#include "compare/features.hpp"
#include "compare/regression.hpp"

namespace lrm::compare {

// "lo:hi:n" (n penalties log-spaced from lo to hi, as numpy.logspace) or a comma list; each
// penalty positive. A SettingError of `setting` otherwise.
std::vector<double> parse_alphas(const std::string& text, const std::string& setting = "alphas");
// 1e-2:1e6:20
std::vector<double> default_alphas();

struct RidgeCvPrediction {
  Eigen::MatrixXd prediction;  // test stimulus x target
  Eigen::VectorXd penalty;     // chosen per target
};

// Targets are solved in blocks of this many columns (penalties: how many are tried), and every
// product over targets is taken block by block: temporaries are n x (penalties x block) whatever
// the number of voxels, and a target's results depend only on the shape of its block. A share of
// the targets made of whole blocks (an MPI rank's, compare/model_share.hpp) therefore gets one
// process's bits. A power of two, so that a block boundary keeps the address alignment of every
// column (Eigen sums a column's unaligned head apart from its aligned packets).
Eigen::Index ridge_cv_block(std::size_t penalties);

// Centres a training kernel (n x n) and a test kernel (m x n) on the training stimuli's mean in
// feature space: whatever common shift the features had cancels.
void centre_kernels(Eigen::MatrixXd& k_train, Eigen::MatrixXd& k_test);

// Trained on `train` with responses y_train, the predictions for `test`, from `gram` holding the
// features' dot products between every pair of stimuli (shifted by any common vector).
RidgeCvPrediction ridge_cv_kernel(const Eigen::MatrixXd& gram, const Rows& train, const Rows& test,
                                  const Eigen::MatrixXd& y_train,
                                  const std::vector<double>& alphas);

// The predictions for the features' rows `test` of the fit on the rows `train` (as
// fit_ridge_cv(...).predict, but through the test kernel within the target blocks, so that no
// product spans more targets than a block): primal or kernel form by the features' shape.
RidgeCvPrediction ridge_cv_predict(const FeatureMatrix& x, const Rows& train, const Rows& test,
                                   const Eigen::MatrixXd& y_train,
                                   const std::vector<double>& alphas);

// The fit on the features' rows `rows` (primal or kernel form by their shape); fit.penalty holds
// the chosen penalties.
LinearFit fit_ridge_cv(const FeatureMatrix& x, const Rows& rows, const Eigen::MatrixXd& y,
                       const std::vector<double>& alphas);

}  // namespace lrm::compare
