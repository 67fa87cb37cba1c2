#include "compare/ridge_cv.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

#include "common/error.hpp"

namespace lrm::compare {
namespace {

double parse_positive(const std::string& text, const std::string& setting) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v) || v <= 0)
    throw SettingError(setting, "'" + text + "' is not a positive number");
  return v;
}

// Eigenvectors of the centred training kernel orthogonal to the constant vector (columns of u,
// orthonormal) and their eigenvalues s2: the constant direction holds the intercept, which is not
// penalised, so it is taken out exactly rather than found among the other null directions.
struct Spectrum {
  Eigen::MatrixXd u;
  Eigen::VectorXd s2;
};

// The Householder reflection H = I - 2 v v^T / v^T v maps the unit constant vector to e1, so
// H Kc H is zero in its first row and column and its remaining block is Kc on the complement.
Spectrum kernel_spectrum(const Eigen::MatrixXd& kc) {
  const Eigen::Index n = kc.rows();
  Eigen::VectorXd v = Eigen::VectorXd::Constant(n, 1.0 / std::sqrt(static_cast<double>(n)));
  v[0] -= 1.0;
  const double scale = 2.0 / v.squaredNorm();
  Eigen::MatrixXd a = kc - scale * v * (v.transpose() * kc);
  a -= scale * (a * v) * v.transpose();
  const EigenPairs eig = symmetric_eigen(a.bottomRightCorner(n - 1, n - 1));
  Eigen::MatrixXd padded = Eigen::MatrixXd::Zero(n, n - 1);
  padded.bottomRows(n - 1) = eig.vectors;
  Spectrum s;
  s.u = padded - scale * v * (v.transpose() * padded);
  s.s2 = eig.values.cwiseMax(0.0);
  return s;
}

// Left singular vectors of the centred features with a nonzero singular value (they are
// orthogonal to the constant vector as the centred columns are; the others add nothing to any
// leave-one-out residual).
Spectrum primal_spectrum(const Eigen::MatrixXd& xc) {
  Eigen::BDCSVD<Eigen::MatrixXd> svd(xc, Eigen::ComputeThinU);
  const Eigen::VectorXd& s = svd.singularValues();
  const double floor = s.size() ? s[0] * 1e-12 : 0.0;
  Eigen::Index k = 0;
  while (k < s.size() && s[k] > floor) ++k;
  return {svd.matrixU().leftCols(k), s.head(k).cwiseAbs2()};
}

struct DualSolution {
  Eigen::MatrixXd coef;  // n x q: prediction = centred kernel rows times coef + y mean
  Eigen::VectorXd penalty;
};

// For penalty a, G^-1 = U diag(1/(s2+a)) U^T + (I - U U^T - 1 1^T/n)/a (the constant direction
// unpenalised): dual coefficients c = G^-1 yc and leave-one-out residuals c_i / G^-1_ii. Targets
// go in blocks, so the temporaries are n x block whatever the number of voxels.
DualSolution solve(const Spectrum& sp, const Eigen::MatrixXd& yc,
                   const std::vector<double>& alphas) {
  constexpr Eigen::Index block = 1024;
  const Eigen::Index n = yc.rows(), q = yc.cols();
  const Eigen::MatrixXd u2 = sp.u.cwiseAbs2();
  const Eigen::ArrayXd outside = 1.0 - u2.rowwise().sum().array() - 1.0 / static_cast<double>(n);
  DualSolution out{Eigen::MatrixXd(n, q), Eigen::VectorXd(q)};
  for (Eigen::Index first = 0; first < q; first += block) {
    const Eigen::Index m = std::min(block, q - first);
    const Eigen::MatrixXd uty = sp.u.transpose() * yc.middleCols(first, m);
    Eigen::MatrixXd rest = yc.middleCols(first, m) - sp.u * uty;
    Eigen::VectorXd best = Eigen::VectorXd::Constant(m, std::numeric_limits<double>::infinity());
    std::vector<double> chosen(static_cast<std::size_t>(m), alphas.front());
    for (const double a : alphas) {
      const Eigen::VectorXd w = (sp.s2.array() + a).inverse();
      const Eigen::MatrixXd c = sp.u * (w.asDiagonal() * uty) + rest / a;
      const Eigen::ArrayXd diag = (u2 * w).array() + outside / a;
      const Eigen::VectorXd error = (c.array().colwise() / diag).square().colwise().mean();
      for (Eigen::Index t = 0; t < m; ++t)
        if (error[t] < best[t]) best[t] = error[t], chosen[static_cast<std::size_t>(t)] = a;
    }
    // Each target's coefficients with its own penalty, in one product for the block.
    Eigen::MatrixXd scaled(uty.rows(), m);
    for (Eigen::Index t = 0; t < m; ++t) {
      const double a = chosen[static_cast<std::size_t>(t)];
      scaled.col(t) = uty.col(t).array() / (sp.s2.array() + a);
      rest.col(t) /= a;
      out.penalty[first + t] = a;
    }
    out.coef.middleCols(first, m) = sp.u * scaled + rest;
  }
  return out;
}

void check_training(std::size_t n, const std::vector<double>& alphas) {
  if (n < 3) throw InputError("ridge regression needs at least 3 training stimuli");
  if (alphas.empty()) throw SettingError("alphas", "needs at least one penalty");
}

}  // namespace

std::vector<double> parse_alphas(const std::string& text, const std::string& setting) {
  std::vector<double> out;
  if (text.find(':') != std::string::npos) {
    std::vector<std::string> parts;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, ':');) parts.push_back(part);
    if (parts.size() != 3) throw SettingError(setting, "use lo:hi:n or a comma list");
    const double lo = std::log10(parse_positive(parts[0], setting));
    const double hi = std::log10(parse_positive(parts[1], setting));
    const double count = parse_positive(parts[2], setting);
    if (count != std::floor(count) || count > 1000)
      throw SettingError(setting, "the count '" + parts[2] + "' must be a whole number <= 1000");
    const int k = static_cast<int>(count);
    for (int i = 0; i < k; ++i)
      out.push_back(std::pow(10.0, k == 1 ? lo : lo + (hi - lo) * i / (k - 1)));
    return out;
  }
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) out.push_back(parse_positive(part, setting));
  if (out.empty()) throw SettingError(setting, "needs at least one penalty");
  return out;
}

std::vector<double> default_alphas() { return parse_alphas("1e-2:1e6:20"); }

void centre_kernels(Eigen::MatrixXd& k_train, Eigen::MatrixXd& k_test) {
  const auto n = static_cast<double>(k_train.rows());
  const Eigen::VectorXd row_mean = k_train.rowwise().sum() / n;
  const double mean = row_mean.sum() / n;
  const Eigen::VectorXd test_mean = k_test.rowwise().sum() / n;
  k_train = ((k_train.colwise() - row_mean).rowwise() - row_mean.transpose()).array() + mean;
  k_test = ((k_test.colwise() - test_mean).rowwise() - row_mean.transpose()).array() + mean;
}

RidgeCvPrediction ridge_cv_kernel(const Eigen::MatrixXd& gram, const Rows& train, const Rows& test,
                                  const Eigen::MatrixXd& y_train,
                                  const std::vector<double>& alphas) {
  check_training(train.size(), alphas);
  const auto n = static_cast<Eigen::Index>(train.size());
  const auto m = static_cast<Eigen::Index>(test.size());
  Eigen::MatrixXd k_train(n, n), k_test(m, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = 0; i < n; ++i) k_train(i, j) = gram(train[i], train[j]);
    for (Eigen::Index i = 0; i < m; ++i) k_test(i, j) = gram(test[i], train[j]);
  }
  centre_kernels(k_train, k_test);
  const Eigen::RowVectorXd y_mean = y_train.colwise().mean();
  const DualSolution dual = solve(kernel_spectrum(k_train), y_train.rowwise() - y_mean, alphas);
  RidgeCvPrediction out{k_test * dual.coef, dual.penalty};
  out.prediction.rowwise() += y_mean;
  return out;
}

LinearFit fit_ridge_cv(const FeatureMatrix& x, const Rows& rows, const Eigen::MatrixXd& y,
                       const std::vector<double>& alphas) {
  check_training(rows.size(), alphas);
  LinearFit fit;
  fit.x_mean = column_means(x, rows);
  fit.y_mean = y.colwise().mean().transpose();
  const Eigen::MatrixXd yc = y.rowwise() - fit.y_mean.transpose();
  const auto n = static_cast<Eigen::Index>(rows.size());
  DualSolution dual;
  if (x.cols() > n) {
    dual = solve(kernel_spectrum(gram(x, rows, rows, fit.x_mean)), yc, alphas);
    fit.coef = transpose_times(x, rows, fit.x_mean, dual.coef);
  } else {
    Eigen::MatrixXd xc(n, x.cols());
    for (Eigen::Index i = 0; i < n; ++i)
      xc.row(i) = x.row(rows[static_cast<std::size_t>(i)]).cast<double>() - fit.x_mean.transpose();
    dual = solve(primal_spectrum(xc), yc, alphas);
    fit.coef = xc.transpose() * dual.coef;
  }
  fit.penalty = dual.penalty;
  return fit;
}

}  // namespace lrm::compare
