#include "compare/regression.hpp"

#include <cmath>
#include <limits>

#include "common/error.hpp"

namespace lrm::compare {
namespace {

constexpr double eps = std::numeric_limits<double>::epsilon();

// sklearn's _pinv2_old: SVD pseudo-inverse with cutoff max(s) * 1e6 * eps.
Eigen::MatrixXd pinv_old(const Eigen::MatrixXd& a) {
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(a, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Eigen::VectorXd& s = svd.singularValues();
  const double cond = (s.size() ? s.maxCoeff() : 0.0) * 1e6 * eps;
  Eigen::VectorXd inv = Eigen::VectorXd::Zero(s.size());
  for (Eigen::Index i = 0; i < s.size(); ++i)
    if (s[i] > cond) inv[i] = 1.0 / s[i];
  return svd.matrixV() * inv.asDiagonal() * svd.matrixU().transpose();
}

Eigen::VectorXd normalised(const Eigen::VectorXd& v) { return v / (v.norm() + eps); }

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

LinearFit fit_pls(const FeatureMatrix& x, const Rows& rows, const Eigen::MatrixXd& y,
                  const PlsOptions& options) {
  const auto n = static_cast<Eigen::Index>(rows.size());
  const Eigen::Index p = x.cols(), q = y.cols();
  if (n < 2) throw InputError("PLS needs at least 2 training stimuli");
  if (options.n_components < 1 || options.n_components > p)
    throw InputError("PLS with " + std::to_string(options.n_components) +
                     " components needs at least as many features; the layer has " +
                     std::to_string(p));
  LinearFit fit;
  fit.x_mean = column_means(x, rows);
  fit.y_mean = y.colwise().mean().transpose();
  Eigen::MatrixXd yk = y.rowwise() - fit.y_mean.transpose();
  Eigen::MatrixXd c = transpose_times(x, rows, fit.x_mean, yk);
  if (c.isZero(0.0) && yk.norm() > 0)
    throw InputError("all features are constant over the training stimuli (PLS is undefined)");

  const int k_max = options.n_components;
  Eigen::MatrixXd w(p, k_max), pl(p, k_max), ql(q, k_max), t_all(n, k_max);
  int k = 0;
  for (; k < k_max; ++k) {
    // Targets whose residual is ~0 are zeroed, as sklearn does.
    for (Eigen::Index j = 0; j < q; ++j)
      if ((yk.col(j).array().abs() < 10 * eps).all()) yk.col(j).setZero(), c.col(j).setZero();
    Eigen::Index first = -1;
    for (Eigen::Index j = 0; j < q && first < 0; ++j)
      if ((yk.col(j).array().abs() > eps).any()) first = j;
    if (first < 0) break;  // Y residual is constant: no further components

    // Power iteration. sklearn alternates x_w = normalise(Xk^T y_score) = normalise(C u) and
    // u = Yk^T x_scores direction = C^T x_w; its scalings only rescale vectors that are normalised
    // again, so x_w(i) = C u_i / |C u_i| with u_{i+1} = M u_i, M = C^T C (targets x targets).
    // Iterating u costs q^2 per step instead of two passes over C; the stopping rule
    // |x_w(i) - x_w(i-1)|^2 = 2 - 2 cos(x_w(i), x_w(i-1)) comes from M as well.
    const Eigen::MatrixXd m = c.transpose() * c;
    Eigen::VectorXd u = Eigen::VectorXd::Unit(q, first);
    Eigen::VectorXd mu_u = m * u;
    double norm2 = u.dot(mu_u);  // |C u|^2
    int it = 0;
    for (; it < options.max_iter; ++it) {
      if (q == 1 || it + 1 >= options.max_iter) break;
      Eigen::VectorXd next = mu_u / std::sqrt(norm2);  // C^T x_w(i), the next u up to scale
      const Eigen::VectorXd m_next = m * next;
      const double next_norm2 = next.dot(m_next);
      const double cosine = next.dot(mu_u) / std::sqrt(next_norm2 * norm2);
      u = std::move(next);
      mu_u = m_next;
      norm2 = next_norm2;
      if (2.0 - 2.0 * cosine < options.tol) {
        ++it;
        break;
      }
    }
    Eigen::VectorXd x_w = normalised(c * u);
    fit.iterations.push_back(std::min(it + 1, options.max_iter));
    Eigen::Index biggest = 0;
    x_w.cwiseAbs().maxCoeff(&biggest);
    if (x_w[biggest] < 0) x_w = -x_w;

    // x_scores = Xk x_w with Xk = X0 - sum_j t_j p_j^T (the deflations so far).
    Eigen::VectorXd t = times_vector(x, rows, fit.x_mean, x_w);
    if (k > 0) t.noalias() -= t_all.leftCols(k) * (pl.leftCols(k).transpose() * x_w);
    const double tt = t.squaredNorm();
    if (!(tt > 0))
      throw InputError("PLS component " + std::to_string(k + 1) +
                       " has zero x-scores (constant features?)");
    Eigen::VectorXd p_k = transpose_times_vector(x, rows, fit.x_mean, t);
    if (k > 0) p_k.noalias() -= pl.leftCols(k) * (t_all.leftCols(k).transpose() * t);
    p_k /= tt;
    const Eigen::VectorXd q_k = yk.transpose() * t / tt;
    yk.noalias() -= t * q_k.transpose();
    // C_{k+1} = X_{k+1}^T Y_{k+1} = C_k - (t^T t) p q^T.
    c.noalias() -= tt * p_k * q_k.transpose();
    w.col(k) = x_w;
    pl.col(k) = p_k;
    ql.col(k) = q_k;
    t_all.col(k) = t;
  }
  fit.components_used = k;
  if (k == 0)
    throw InputError("PLS found no component: every target is constant over the training stimuli");
  const Eigen::MatrixXd rotations =
      w.leftCols(k) * pinv_old(pl.leftCols(k).transpose() * w.leftCols(k));
  fit.coef = rotations * ql.leftCols(k).transpose();
  return fit;
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

Regression parse_regression(const std::string& name) {
  if (name == "pls") return Regression::pls;
  if (name == "ridge") return Regression::ridge;
  if (name == "ols") return Regression::ols;
  throw InputError("--regression: unknown regression '" + name + "' (use pls, ridge or ols)");
}

const char* regression_name(Regression r) {
  switch (r) {
    case Regression::pls:
      return "pls";
    case Regression::ridge:
      return "ridge";
    case Regression::ols:
      return "ols";
  }
  return "?";
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
  throw InputError("unknown regression");
}

}  // namespace lrm::compare
