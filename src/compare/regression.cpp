#include "compare/regression.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "common/error.hpp"
#include "compare/ridge_cv.hpp"

extern "C" void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
                        double* w, double* work, const int* lwork, int* iwork, const int* liwork,
                        int* info);

namespace lrm::compare {
namespace {

// The thin SVD of the centred training features through the smaller Gram matrix:
// X0 = U S V^T; we keep U (n x r), s^2, and the map from new rows to their coordinates X V.
struct GramSvd {
  Eigen::MatrixXd u;   // n x r
  Eigen::VectorXd s2;  // r
  Eigen::MatrixXd v;   // p x r (primal case only)
  bool dual = true;
};

}  // namespace

// LAPACK's divide and conquer (OpenBLAS, on all threads): Eigen's solver runs on one thread,
// minutes for thousands of stimuli.
EigenPairs symmetric_eigen(Eigen::MatrixXd m) {
  const int n = static_cast<int>(m.rows());
  EigenPairs e{Eigen::VectorXd(n), std::move(m)};
  int info = 0, lwork = -1, liwork = -1, iwork_size = 0;
  double work_size = 0;
  const char jobz = 'V', uplo = 'U';
  dsyevd_(&jobz, &uplo, &n, e.vectors.data(), &n, e.values.data(), &work_size, &lwork, &iwork_size,
          &liwork, &info);
  lwork = static_cast<int>(work_size);
  liwork = iwork_size;
  std::vector<double> work(static_cast<std::size_t>(std::max(lwork, 1)));
  std::vector<int> iwork(static_cast<std::size_t>(std::max(liwork, 1)));
  dsyevd_(&jobz, &uplo, &n, e.vectors.data(), &n, e.values.data(), work.data(), &lwork,
          iwork.data(), &liwork, &info);
  if (info != 0)
    throw InternalError("the eigendecomposition of a " + std::to_string(n) + " x " +
                        std::to_string(n) + " matrix failed (LAPACK dsyevd info " +
                        std::to_string(info) + ")");
  return e;
}

namespace {

SettingError banded_refused() {
  return SettingError("regression",
                      "banded fits several feature groups (layers x passes) together, not one "
                      "layer's features");
}

// The eigenvectors and -values of a symmetric matrix above 1e-12 of the largest.
GramSvd spectrum(const Eigen::MatrixXd& m, bool dual) {
  GramSvd g;
  g.dual = dual;
  const EigenPairs eig = symmetric_eigen(m);
  const Eigen::VectorXd& lambda = eig.values;
  const double cut = std::max(lambda.maxCoeff(), 0.0) * 1e-12;
  std::vector<Eigen::Index> keep;
  for (Eigen::Index i = 0; i < lambda.size(); ++i)
    if (lambda[i] > cut) keep.push_back(i);
  if (keep.empty()) throw InputError("all features are constant over the training stimuli");
  const auto r = static_cast<Eigen::Index>(keep.size());
  g.s2.resize(r);
  g.u.resize(eig.vectors.rows(), r);
  for (Eigen::Index k = 0; k < r; ++k) {
    g.s2[k] = lambda[keep[k]];
    g.u.col(k) = eig.vectors.col(keep[k]);
  }
  return g;
}

GramSvd gram_svd(const FeatureMatrix& x, const Rows& rows, const Eigen::VectorXd& mu) {
  const auto n = static_cast<Eigen::Index>(rows.size());
  if (n <= x.cols()) return spectrum(gram(x, rows, rows, mu), true);
  // X0^T X0 from blocks of rows.
  const Eigen::MatrixXd x0 = times(x, rows, mu, Eigen::MatrixXd::Identity(x.cols(), x.cols()));
  const Eigen::MatrixXd xtx = x0.transpose() * x0;
  GramSvd g = spectrum(xtx, false);
  g.v = std::move(g.u);
  g.u = times(x, rows, mu, g.v) * g.s2.cwiseSqrt().cwiseInverse().asDiagonal();
  return g;
}

// U diag(1 / (s^2 + penalty_t)) U^T (y_t - mean) per target: the dual coefficients, whose product
// with the centred kernel (or X0 X0^T) gives the fitted values.
Eigen::MatrixXd dual_coefficients(const GramSvd& g, const Eigen::MatrixXd& yc,
                                  const Eigen::VectorXd& penalty) {
  const Eigen::MatrixXd uty = g.u.transpose() * yc;  // r x q
  Eigen::MatrixXd scaled(uty.rows(), uty.cols());
  for (Eigen::Index t = 0; t < yc.cols(); ++t)
    for (Eigen::Index k = 0; k < uty.rows(); ++k) scaled(k, t) = uty(k, t) / (g.s2[k] + penalty[t]);
  return scaled;
}

// The penalty per target with the least leave-one-out error over the grid (default: 10^-3 ..
// 10^6 times the mean eigenvalue, so the grid fits any feature scale).
Eigen::VectorXd choose_penalties(const GramSvd& g, const Eigen::MatrixXd& yc,
                                 const RidgeOptions& options) {
  const auto n = static_cast<double>(yc.rows());
  std::vector<double> grid = options.penalties;
  if (grid.empty())
    for (int i = 0; i < 19; ++i) grid.push_back(g.s2.sum() / n * std::pow(10.0, -3.0 + 0.5 * i));
  const Eigen::MatrixXd uty = g.u.transpose() * yc;
  const Eigen::MatrixXd u2 = g.u.cwiseAbs2();
  Eigen::VectorXd best_error =
      Eigen::VectorXd::Constant(yc.cols(), std::numeric_limits<double>::infinity());
  Eigen::VectorXd best = Eigen::VectorXd::Constant(yc.cols(), grid.front());
  for (double a : grid) {
    // Leave-one-out residuals from the hat matrix H = U diag(s2/(s2+a)) U^T.
    const Eigen::VectorXd shrink = g.s2.array() / (g.s2.array() + a);
    const Eigen::MatrixXd fitted = g.u * (shrink.asDiagonal() * uty);
    const Eigen::VectorXd h = u2 * shrink;
    const Eigen::ArrayXd leverage = (1.0 - h.array()).max(1e-12);
    const Eigen::MatrixXd loo = (yc - fitted).array().colwise() / leverage;
    const Eigen::VectorXd error = loo.colwise().squaredNorm().transpose();
    for (Eigen::Index t = 0; t < yc.cols(); ++t)
      if (error[t] < best_error[t]) best_error[t] = error[t], best[t] = a;
  }
  return best;
}

// coef = V diag(s / (s^2 + penalty_t)) U^T y_t per target; in the dual case V = X0^T U / s.
LinearFit fit_spectral(const FeatureMatrix& x, const Rows& rows, const Eigen::MatrixXd& y,
                       const GramSvd& g, const Eigen::VectorXd& mu,
                       const Eigen::VectorXd& penalty) {
  LinearFit fit;
  fit.x_mean = mu;
  fit.y_mean = y.colwise().mean().transpose();
  const Eigen::MatrixXd yc = y.rowwise() - fit.y_mean.transpose();
  const Eigen::MatrixXd scaled = dual_coefficients(g, yc, penalty);
  if (g.dual) {
    fit.coef = transpose_times(x, rows, mu, g.u * scaled);
  } else {
    fit.coef = g.v * (g.s2.cwiseSqrt().asDiagonal() * scaled);
  }
  fit.penalty = penalty;
  return fit;
}

}  // namespace

Eigen::MatrixXd LinearFit::predict(const FeatureMatrix& x, const Rows& rows) const {
  Eigen::MatrixXd out = times(x, rows, x_mean, coef);
  out.rowwise() += y_mean.transpose();
  return out;
}

LinearFit fit_ridge(const FeatureMatrix& x, const Rows& rows, const Eigen::MatrixXd& y,
                    const RidgeOptions& options) {
  if (rows.size() < 3) throw InputError("ridge regression needs at least 3 training stimuli");
  const Eigen::VectorXd mu = column_means(x, rows);
  const GramSvd g = gram_svd(x, rows, mu);
  const Eigen::MatrixXd yc = y.rowwise() - y.colwise().mean();
  return fit_spectral(x, rows, y, g, mu, choose_penalties(g, yc, options));
}

Eigen::MatrixXd kernel_predict(Regression r, const Eigen::MatrixXd& gram, const Rows& train,
                               const Rows& test, const Eigen::MatrixXd& y_train,
                               const RidgeOptions& options) {
  if (r == Regression::banded) throw banded_refused();
  if (r == Regression::pls)
    throw InternalError("PLS has no kernel form here; it needs the features");
  if (r == Regression::ridgecv)
    return ridge_cv_kernel(gram, train, test, y_train,
                           options.penalties.empty() ? default_alphas() : options.penalties)
        .prediction;
  const auto n = static_cast<Eigen::Index>(train.size());
  if (n < (r == Regression::ridge ? 3 : 2))
    throw InputError(std::string(regression_name(r)) + " needs at least " +
                     (r == Regression::ridge ? "3" : "2") + " training stimuli");
  // Centring on the training mean, in the kernel: k(a, b) - mean_t k(a, t) - mean_t k(t, b) +
  // mean_tt' k(t, t'), whatever common shift the features had.
  const auto ni = static_cast<double>(n);
  Eigen::MatrixXd k_train(n, n), k_test(static_cast<Eigen::Index>(test.size()), n);
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < n; ++i) k_train(i, j) = gram(train[i], train[j]);
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = 0; i < k_test.rows(); ++i) k_test(i, j) = gram(test[i], train[j]);
  const Eigen::VectorXd row_mean = k_train.rowwise().sum() / ni;
  const double mean = row_mean.sum() / ni;
  const Eigen::VectorXd test_mean = k_test.rowwise().sum() / ni;
  k_train = ((k_train.colwise() - row_mean).rowwise() - row_mean.transpose()).array() + mean;
  k_test = ((k_test.colwise() - test_mean).rowwise() - row_mean.transpose()).array() + mean;
  const GramSvd g = spectrum(k_train, true);
  const Eigen::RowVectorXd y_mean = y_train.colwise().mean();
  const Eigen::MatrixXd yc = y_train.rowwise() - y_mean;
  const Eigen::VectorXd penalty = r == Regression::ridge ? choose_penalties(g, yc, options)
                                                         : Eigen::VectorXd::Zero(y_train.cols());
  Eigen::MatrixXd prediction = k_test * (g.u * dual_coefficients(g, yc, penalty));
  prediction.rowwise() += y_mean;
  return prediction;
}

LinearFit fit_ols(const FeatureMatrix& x, const Rows& rows, const Eigen::MatrixXd& y) {
  if (rows.size() < 2) throw InputError("least squares needs at least 2 training stimuli");
  const Eigen::VectorXd mu = column_means(x, rows);
  const GramSvd g = gram_svd(x, rows, mu);
  return fit_spectral(x, rows, y, g, mu, Eigen::VectorXd::Zero(y.cols()));
}

LinearFit fit_regression(Regression r, const FeatureMatrix& x, const Rows& rows,
                         const Eigen::MatrixXd& y, int pls_components) {
  switch (r) {
    case Regression::pls:
      return fit_pls(x, rows, y, {pls_components, 500, 1e-6});
    case Regression::ridge:
      return fit_ridge(x, rows, y);
    case Regression::ols:
      return fit_ols(x, rows, y);
    case Regression::ridgecv:
      return fit_ridge_cv(x, rows, y, default_alphas());
    case Regression::banded:
      throw banded_refused();
  }
  throw InternalError("a regression without a fit");
}

}  // namespace lrm::compare
