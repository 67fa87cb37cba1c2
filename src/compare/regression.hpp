#pragma once
// Regressions from model features to neural responses, fitted on a subset of stimuli (rows) and
// used to predict others: PLS exactly as scikit-learn's PLSRegression(scale=False), ridge with the
// penalty chosen per target by leave-one-out cross-validation over a log-spaced grid (one
// eigendecomposition serves every penalty), and ordinary least squares (minimum norm).
#include <Eigen/Dense>
#include <string>
#include <vector>

#include "common/names.hpp"
#include "compare/features.hpp"

namespace lrm::compare {

struct PlsOptions {
  int n_components = 25;
  int max_iter = 500;
  double tol = 1e-6;
};

// A fitted linear map: prediction = (X - x_mean) coef + y_mean.
struct LinearFit {
  Eigen::VectorXd x_mean;       // p
  Eigen::VectorXd y_mean;       // q
  Eigen::MatrixXd coef;         // p x q
  int components_used = 0;      // PLS: components fitted (fewer when Y's residual is constant)
  std::vector<int> iterations;  // PLS: NIPALS iterations per component
  Eigen::VectorXd penalty;      // ridge: chosen penalty per target
  Eigen::MatrixXd predict(const FeatureMatrix& x, const Rows& rows) const;
};

// NIPALS as sklearn 1.2 (_PLS.fit, mode A, regression deflation), with sklearn's iterations and
// stopping point; X is read twice per component, never per iteration (see pls.cpp).
LinearFit fit_pls(const FeatureMatrix& x, const Rows& rows, const Eigen::MatrixXd& y,
                  const PlsOptions& options = {});

struct Split {
  Rows train, test;  // stimulus indices
};
struct PlsCrossValidation {
  std::vector<Eigen::MatrixXd> prediction;  // per split: test stimulus x target
  std::vector<int> components_used;         // per split
};
// fit_pls on each split's training stimuli, predicting its test stimuli; all splits share each
// pass over X. x_rows[i]: the row of x for stimulus i (the row of y).
PlsCrossValidation cross_validate_pls(const FeatureMatrix& x, const Rows& x_rows,
                                      const Eigen::MatrixXd& y, const std::vector<Split>& splits,
                                      const PlsOptions& options = {});

struct RidgeOptions {
  std::vector<double> penalties;  // default: 10^-3 .. 10^6, 19 values, times trace(K)/n
};
LinearFit fit_ridge(const FeatureMatrix& x, const Rows& rows, const Eigen::MatrixXd& y,
                    const RidgeOptions& options = {});
LinearFit fit_ols(const FeatureMatrix& x, const Rows& rows, const Eigen::MatrixXd& y);

// Eigenvalues (ascending) and eigenvectors of a symmetric matrix.
struct EigenPairs {
  Eigen::VectorXd values;
  Eigen::MatrixXd vectors;
};
EigenPairs symmetric_eigen(Eigen::MatrixXd m);

// banded: banded ridge over several feature groups together (banded_ridge.hpp), which
// run_banded_encoding fits; fit_regression and kernel_predict fit one feature matrix and refuse it.
enum class Regression { pls, ridge, ols, ridgecv, banded };
inline const Names<Regression> regression_names{{"pls", Regression::pls},
                                                {"ridge", Regression::ridge},
                                                {"ols", Regression::ols},
                                                {"ridgecv", Regression::ridgecv},
                                                {"banded", Regression::banded}};
inline Regression parse_regression(const std::string& name) {
  return regression_names.parse(name, "regression");
}
inline const char* regression_name(Regression r) { return regression_names.name(r).c_str(); }
LinearFit fit_regression(Regression r, const FeatureMatrix& x, const Rows& rows,
                         const Eigen::MatrixXd& y, int pls_components = 25);

// Ridge or least squares (not PLS) in their kernel form: `gram` holds the features' dot products
// between every pair of stimuli (shifted by any common vector, as compare/gram.hpp's streamed
// Gram); trained on the stimuli `train` with responses y_train, the predictions for `test`. The
// same predictions as fit_regression(...).predict, without the features in memory.
Eigen::MatrixXd kernel_predict(Regression r, const Eigen::MatrixXd& gram, const Rows& train,
                               const Rows& test, const Eigen::MatrixXd& y_train,
                               const RidgeOptions& options = {});

}  // namespace lrm::compare
