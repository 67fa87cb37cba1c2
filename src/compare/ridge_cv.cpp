#include "compare/ridge_cv.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <utility>

#include "common/error.hpp"
#include "common/interrupt.hpp"

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
// `complete`: u spans every direction orthogonal to the constant, so a centred target has no part
// outside it.
struct Spectrum {
  Eigen::MatrixXd u;
  Eigen::VectorXd s2;
  bool complete = false;
};

// The Householder reflection H = I - 2 v v^T / v^T v maps the unit constant vector to e1, so
// H Kc H is zero in its first row and column and its remaining block is Kc on the complement.
Spectrum kernel_spectrum(Eigen::MatrixXd kc) {
  const Eigen::Index n = kc.rows();
  Eigen::VectorXd v = Eigen::VectorXd::Constant(n, 1.0 / std::sqrt(static_cast<double>(n)));
  v[0] -= 1.0;
  const double scale = 2.0 / v.squaredNorm();
  kc -= scale * v * (v.transpose() * kc);
  kc -= scale * (kc * v) * v.transpose();
  EigenPairs eig = symmetric_eigen(kc.bottomRightCorner(n - 1, n - 1));
  kc.resize(0, 0);
  Spectrum s;
  s.u.resize(n, n - 1);
  s.u.row(0).setZero();
  s.u.bottomRows(n - 1) = eig.vectors;
  eig.vectors.resize(0, 0);
  s.u -= (scale * v) * (v.transpose() * s.u);
  s.s2 = eig.values.cwiseMax(0.0);
  s.complete = true;
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
  return {svd.matrixU().leftCols(k), s.head(k).cwiseAbs2(), false};
}

// For penalty a, G^-1 = U diag(w) U^T + (I - U U^T - 1 1^T/n)/a with w = 1/(s2 + a) (the
// constant direction unpenalised): dual coefficients c = U (w o U^T y) + rest/a, rest = the part
// of the centred y outside U, and leave-one-out residuals c_i / G^-1_ii.
struct Penalties {
  std::vector<double> alphas;
  Eigen::MatrixXd w;           // r x penalties
  Eigen::MatrixXd inv_diag;    // n x penalties: 1 / G^-1_ii
  Eigen::MatrixXf inv_diag_f;  // the same in single precision, for loo_errors_single
};

Penalties penalty_tables(const Spectrum& sp, const std::vector<double>& alphas) {
  const Eigen::Index k = static_cast<Eigen::Index>(alphas.size());
  Penalties t{alphas, Eigen::MatrixXd(sp.u.cols(), k), {}, {}};
  for (Eigen::Index a = 0; a < k; ++a) t.w.col(a) = (sp.s2.array() + alphas[a]).inverse();
  Eigen::MatrixXd diag = sp.u.cwiseAbs2() * t.w;
  if (!sp.complete) {
    const Eigen::ArrayXd outside =
        1.0 - sp.u.cwiseAbs2().rowwise().sum().array() - 1.0 / static_cast<double>(sp.u.rows());
    for (Eigen::Index a = 0; a < k; ++a) diag.col(a).array() += outside / alphas[a];
  }
  t.inv_diag = diag.cwiseInverse();
  t.inv_diag_f = t.inv_diag.cast<float>();
  return t;
}

// Mean squared leave-one-out residual of every penalty (row) for every target (column) of a
// block: every penalty's dual coefficients in one single-precision product. Used only to rank
// penalties; close calls are settled in double (choose_penalties).
Eigen::MatrixXd loo_errors_single(const Eigen::MatrixXf& uf, const Penalties& t,
                                  const Eigen::MatrixXd& uty, const Eigen::MatrixXd* rest) {
  const Eigen::Index k = t.w.cols(), m = uty.cols(), n = uf.rows();
  Eigen::MatrixXf scaled(uty.rows(), k * m);
  for (Eigen::Index a = 0; a < k; ++a)
    scaled.middleCols(a * m, m) = (t.w.col(a).asDiagonal() * uty).cast<float>();
  Eigen::MatrixXf c(n, k * m);
  c.noalias() = uf * scaled;
  scaled.resize(0, 0);
  const Eigen::MatrixXf rest_f = rest ? rest->cast<float>() : Eigen::MatrixXf();
  Eigen::MatrixXd errors(k, m);
  for (Eigen::Index a = 0; a < k; ++a) {
    auto ca = c.middleCols(a * m, m).array();
    if (rest) ca += rest_f.array() * static_cast<float>(1.0 / t.alphas[a]);
    ca.colwise() *= t.inv_diag_f.col(a).array();
    errors.row(a) = ca.square().colwise().sum().cast<double>() / static_cast<double>(n);
  }
  return errors;
}

// How far loo_errors_single's errors (k x m) may be from the exact ones. Under Higham and Mary's
// probabilistic model of rounding (SIAM J. Sci. Comput. 41, 2019: the roundings independent, mean
// zero, each within u = 2^-24), an error that is a sum of roundings times coefficients exceeds
// lambda u sqrt(sum of the squared coefficients) with probability at most 2 exp(-lambda^2 / 2),
// 3e-14 at lambda = 8. With s = w o U^T y, the dual coefficient c_i = u_i . s (+ rest_i / a)
// takes at most 3r + 4 roundings (U and s made single, products, sums, the rest term), each of a
// partial sum within |s| + |rest| / a (the rows of U have norms <= 1), and enters the error
// E = |c o d|^2 / n as 2 c_i d_i^2 / n: together within 2 d_max sqrt(E (3r + 4) / n)
// (|s| + |rest| / a). The products c_i d_i, their squares and the sum of the n squares add
// (sqrt(n) + 3) E.
Eigen::MatrixXd single_rounding_bound(const Penalties& t, const Eigen::MatrixXd& uty,
                                      const Eigen::MatrixXd* rest, const Eigen::MatrixXd& errors) {
  constexpr double lambda = 8.0, u = 0x1p-24;
  const auto n = static_cast<double>(t.inv_diag.rows()), r = static_cast<double>(uty.rows());
  Eigen::MatrixXd spread = (t.w.cwiseAbs2().transpose() * uty.cwiseAbs2()).cwiseSqrt();
  if (rest)
    for (Eigen::Index a = 0; a < spread.rows(); ++a)
      spread.row(a) += rest->colwise().norm() / t.alphas[static_cast<std::size_t>(a)];
  const Eigen::VectorXd d_max = t.inv_diag.colwise().maxCoeff().transpose();
  return lambda * u *
         (2.0 * (d_max.asDiagonal() * spread)
                    .cwiseProduct((errors * ((3.0 * r + 4.0) / n)).cwiseSqrt()) +
          (std::sqrt(n) + 3.0) * errors);
}

using Pairs = std::vector<std::pair<Eigen::Index, Eigen::Index>>;  // (target, penalty)

// The exact errors of some (target, penalty) pairs of a block, their dual coefficients in double
// `width` pairs at a time.
Eigen::VectorXd loo_errors_double(const Spectrum& sp, const Penalties& t,
                                  const Eigen::MatrixXd& uty, const Eigen::MatrixXd* rest,
                                  const Pairs& pairs, Eigen::Index width) {
  const auto p = static_cast<Eigen::Index>(pairs.size());
  Eigen::VectorXd errors(p);
  for (Eigen::Index first = 0; first < p; first += width) {
    const Eigen::Index cols = std::min(width, p - first);
    Eigen::MatrixXd scaled(uty.rows(), cols);
    for (Eigen::Index i = 0; i < cols; ++i) {
      const auto [j, a] = pairs[static_cast<std::size_t>(first + i)];
      scaled.col(i) = t.w.col(a).cwiseProduct(uty.col(j));
    }
    Eigen::MatrixXd c = sp.u * scaled;
    for (Eigen::Index i = 0; i < cols; ++i) {
      const auto [j, a] = pairs[static_cast<std::size_t>(first + i)];
      if (rest) c.col(i) += rest->col(j) / t.alphas[static_cast<std::size_t>(a)];
      errors[first + i] =
          c.col(i).cwiseProduct(t.inv_diag.col(a)).squaredNorm() / static_cast<double>(c.rows());
    }
  }
  return errors;
}

// The penalty index per target with the smallest error (the first on ties), as double ranks them:
// the single-precision minimum unless another penalty's error is within both errors'
// single_rounding_bound of it; then the exact errors of those candidates alone decide, taken a
// block's width at a time, so that the work depends only on the block.
std::vector<Eigen::Index> choose_penalties(const Spectrum& sp, const Penalties& t,
                                           const Eigen::MatrixXd& uty, const Eigen::MatrixXd* rest,
                                           const Eigen::MatrixXd& errors) {
  const Eigen::Index k = errors.rows(), m = errors.cols();
  const Eigen::MatrixXd bound = single_rounding_bound(t, uty, rest, errors);
  std::vector<Eigen::Index> chosen(static_cast<std::size_t>(m));
  Pairs close;  // in target, then penalty order
  for (Eigen::Index j = 0; j < m; ++j) {
    errors.col(j).minCoeff(&chosen[static_cast<std::size_t>(j)]);
    const double ceiling = (errors.col(j) + bound.col(j)).minCoeff();
    Pairs candidates;
    for (Eigen::Index a = 0; a < k; ++a)
      if (errors(a, j) - bound(a, j) <= ceiling) candidates.emplace_back(j, a);
    if (candidates.size() > 1) close.insert(close.end(), candidates.begin(), candidates.end());
  }
  const Eigen::VectorXd exact = loo_errors_double(sp, t, uty, rest, close, m);
  double least = 0.0;
  for (std::size_t i = 0; i < close.size(); ++i) {
    const auto [j, a] = close[i];
    const auto e = static_cast<Eigen::Index>(i);
    if (i == 0 || close[i - 1].first != j || exact[e] < least) {
      least = exact[e];
      chosen[static_cast<std::size_t>(j)] = a;
    }
  }
  return chosen;
}

struct DualSolution {
  Eigen::MatrixXd mapped;  // map x target: `map` times the dual coefficients (n x q without map)
  Eigen::VectorXd penalty;
};

// Targets go in ridge_cv_block's blocks. With `map` (rows x n), returns map times the dual
// coefficients through map U, never forming the n x q coefficients (predictions need rows x r per
// target, not n x r).
DualSolution solve(const Spectrum& sp, const Eigen::MatrixXd& y, const Eigen::RowVectorXd& y_mean,
                   const std::vector<double>& alphas, const Eigen::MatrixXd* map = nullptr) {
  const Eigen::Index q = y_mean.size(), block = ridge_cv_block(alphas.size());
  const Penalties t = penalty_tables(sp, alphas);
  const Eigen::MatrixXf uf = sp.u.cast<float>();
  const Eigen::MatrixXd mapped_u = map ? Eigen::MatrixXd(*map * sp.u) : Eigen::MatrixXd();
  const Eigen::MatrixXd& out_u = map ? mapped_u : sp.u;
  DualSolution out{Eigen::MatrixXd(out_u.rows(), q), Eigen::VectorXd(q)};
  for (Eigen::Index first = 0; first < q; first += block) {
    check_interrupt();  // a block is a second or so at NSD's size; all of them, many minutes
    const Eigen::Index m = std::min(block, q - first);
    // Centred block by block: no second n x q copy of the targets.
    const Eigen::MatrixXd yc = y.middleCols(first, m).rowwise() - y_mean.segment(first, m);
    const Eigen::MatrixXd uty = sp.u.transpose() * yc;
    Eigen::MatrixXd rest;
    if (!sp.complete) rest = yc - sp.u * uty;
    const Eigen::MatrixXd* r = sp.complete ? nullptr : &rest;
    const auto chosen = choose_penalties(sp, t, uty, r, loo_errors_single(uf, t, uty, r));
    Eigen::MatrixXd scaled(uty.rows(), m);
    for (Eigen::Index j = 0; j < m; ++j) {
      const Eigen::Index a = chosen[static_cast<std::size_t>(j)];
      scaled.col(j) = uty.col(j).cwiseProduct(t.w.col(a));
      out.penalty[first + j] = alphas[static_cast<std::size_t>(a)];
      if (r) rest.col(j) /= alphas[static_cast<std::size_t>(a)];
    }
    out.mapped.middleCols(first, m).noalias() = out_u * scaled;
    if (r) out.mapped.middleCols(first, m) += map ? Eigen::MatrixXd(*map * rest) : rest;
  }
  return out;
}

Eigen::MatrixXd centred_rows(const FeatureMatrix& x, const Rows& rows,
                             const Eigen::VectorXd& mean) {
  Eigen::MatrixXd xc(static_cast<Eigen::Index>(rows.size()), x.cols());
  for (std::size_t i = 0; i < rows.size(); ++i)
    xc.row(static_cast<Eigen::Index>(i)) = x.row(rows[i]).cast<double>() - mean.transpose();
  return xc;
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

Eigen::Index ridge_cv_block(std::size_t penalties) {
  // About 4096 columns of penalty x target: wide enough for the GEMMs, small next to n x q.
  Eigen::Index block = 1024;
  while (block > 64 && block * static_cast<Eigen::Index>(penalties) > 4096) block /= 2;
  return block;
}

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
  const Spectrum sp = kernel_spectrum(std::move(k_train));
  const DualSolution dual = solve(sp, y_train, y_mean, alphas, &k_test);
  RidgeCvPrediction out{dual.mapped, dual.penalty};
  out.prediction.rowwise() += y_mean;
  return out;
}

RidgeCvPrediction ridge_cv_predict(const FeatureMatrix& x, const Rows& train, const Rows& test,
                                   const Eigen::MatrixXd& y_train,
                                   const std::vector<double>& alphas) {
  check_training(train.size(), alphas);
  const Eigen::VectorXd x_mean = column_means(x, train);
  const Eigen::RowVectorXd y_mean = y_train.colwise().mean();
  const Eigen::MatrixXd k_test = gram(x, test, train, x_mean);
  const Spectrum sp = x.cols() > static_cast<Eigen::Index>(train.size())
                          ? kernel_spectrum(gram(x, train, train, x_mean))
                          : primal_spectrum(centred_rows(x, train, x_mean));
  const DualSolution dual = solve(sp, y_train, y_mean, alphas, &k_test);
  RidgeCvPrediction out{dual.mapped, dual.penalty};
  out.prediction.rowwise() += y_mean;
  return out;
}

LinearFit fit_ridge_cv(const FeatureMatrix& x, const Rows& rows, const Eigen::MatrixXd& y,
                       const std::vector<double>& alphas) {
  check_training(rows.size(), alphas);
  LinearFit fit;
  fit.x_mean = column_means(x, rows);
  fit.y_mean = y.colwise().mean().transpose();
  const auto n = static_cast<Eigen::Index>(rows.size());
  DualSolution dual;
  if (x.cols() > n) {
    dual =
        solve(kernel_spectrum(gram(x, rows, rows, fit.x_mean)), y, fit.y_mean.transpose(), alphas);
    fit.coef = transpose_times(x, rows, fit.x_mean, dual.mapped);
  } else {
    const Eigen::MatrixXd xc = centred_rows(x, rows, fit.x_mean);
    dual = solve(primal_spectrum(xc), y, fit.y_mean.transpose(), alphas);
    fit.coef = xc.transpose() * dual.mapped;
  }
  fit.penalty = dual.penalty;
  return fit;
}

}  // namespace lrm::compare
