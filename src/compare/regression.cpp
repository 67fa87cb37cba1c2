#include "compare/regression.hpp"

#include <cmath>
#include <limits>

#include "common/error.hpp"

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

GramSvd gram_svd(const FeatureMatrix& x, const Rows& rows, const Eigen::VectorXd& mu) {
  GramSvd g;
  const auto n = static_cast<Eigen::Index>(rows.size());
  g.dual = n <= x.cols();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig;
  if (g.dual) {
    eig.compute(gram(x, rows, rows, mu));
  } else {
    // X0^T X0 from blocks of rows.
    Eigen::MatrixXd xtx = Eigen::MatrixXd::Zero(x.cols(), x.cols());
    const Eigen::MatrixXd x0 = times(x, rows, mu, Eigen::MatrixXd::Identity(x.cols(), x.cols()));
    xtx.noalias() = x0.transpose() * x0;
    eig.compute(xtx);
  }
  const Eigen::VectorXd& lambda = eig.eigenvalues();
  const double cut = std::max(lambda.maxCoeff(), 0.0) * 1e-12;
  std::vector<Eigen::Index> keep;
  for (Eigen::Index i = 0; i < lambda.size(); ++i)
    if (lambda[i] > cut) keep.push_back(i);
  if (keep.empty()) throw InputError("all features are constant over the training stimuli");
  const auto r = static_cast<Eigen::Index>(keep.size());
  g.s2.resize(r);
  Eigen::MatrixXd vecs(eig.eigenvectors().rows(), r);
  for (Eigen::Index k = 0; k < r; ++k) {
    g.s2[k] = lambda[keep[k]];
    vecs.col(k) = eig.eigenvectors().col(keep[k]);
  }
  if (g.dual) {
    g.u = vecs;
  } else {
    g.v = vecs;
    g.u = times(x, rows, mu, vecs) * g.s2.cwiseSqrt().cwiseInverse().asDiagonal();
  }
  return g;
}

// coef = V diag(s / (s^2 + penalty_t)) U^T y_t per target; in the dual case V = X0^T U / s.
LinearFit fit_spectral(const FeatureMatrix& x, const Rows& rows, const Eigen::MatrixXd& y,
                       const GramSvd& g, const Eigen::VectorXd& mu,
                       const Eigen::VectorXd& penalty) {
  LinearFit fit;
  fit.x_mean = mu;
  fit.y_mean = y.colwise().mean().transpose();
  const Eigen::MatrixXd yc = y.rowwise() - fit.y_mean.transpose();
  const Eigen::MatrixXd uty = g.u.transpose() * yc;  // r x q
  Eigen::MatrixXd scaled(uty.rows(), uty.cols());
  for (Eigen::Index t = 0; t < y.cols(); ++t)
    for (Eigen::Index k = 0; k < uty.rows(); ++k)
      scaled(k, t) = uty(k, t) / (g.s2[k] + penalty[t]);  // = (s/(s^2+a)) / s applied after X0^T U
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
  const auto n = static_cast<Eigen::Index>(rows.size());
  if (n < 3) throw InputError("ridge regression needs at least 3 training stimuli");
  const Eigen::VectorXd mu = column_means(x, rows);
  const GramSvd g = gram_svd(x, rows, mu);
  std::vector<double> grid = options.penalties;
  if (grid.empty()) {
    // Relative to the mean eigenvalue, so the grid fits any feature scale.
    const double scale = g.s2.sum() / static_cast<double>(n);
    for (int i = 0; i < 19; ++i) grid.push_back(scale * std::pow(10.0, -3.0 + 0.5 * i));
  }
  const Eigen::VectorXd y_mean = y.colwise().mean().transpose();
  const Eigen::MatrixXd yc = y.rowwise() - y_mean.transpose();
  const Eigen::MatrixXd uty = g.u.transpose() * yc;
  const Eigen::MatrixXd u2 = g.u.cwiseAbs2();
  Eigen::VectorXd best_error =
      Eigen::VectorXd::Constant(y.cols(), std::numeric_limits<double>::infinity());
  Eigen::VectorXd best = Eigen::VectorXd::Constant(y.cols(), grid.front());
  for (double a : grid) {
    // Leave-one-out residuals from the hat matrix H = U diag(s2/(s2+a)) U^T.
    const Eigen::VectorXd shrink = g.s2.array() / (g.s2.array() + a);
    const Eigen::MatrixXd fitted = g.u * (shrink.asDiagonal() * uty);
    const Eigen::VectorXd h = u2 * shrink;
    const Eigen::ArrayXd leverage = (1.0 - h.array()).max(1e-12);
    const Eigen::MatrixXd loo = (yc - fitted).array().colwise() / leverage;
    const Eigen::VectorXd error = loo.colwise().squaredNorm().transpose();
    for (Eigen::Index t = 0; t < y.cols(); ++t)
      if (error[t] < best_error[t]) best_error[t] = error[t], best[t] = a;
  }
  return fit_spectral(x, rows, y, g, mu, best);
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
  }
  throw InternalError("a regression without a fit");
}

}  // namespace lrm::compare
