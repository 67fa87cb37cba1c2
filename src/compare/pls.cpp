// PLS as scikit-learn's PLSRegression(scale=False), fitted on many train/test splits at once.
//
// sklearn's NIPALS alternates x_w = normalise(Xk^T Yk u) and u = Yk^T Xk x_w. With C_k = Xk^T Yk
// (features x targets) its iterates are x_w(i) = C_k u_i / |C_k u_i| with u_{i+1} = M_k u_i,
// M_k = C_k^T C_k (targets x targets), so the power iteration runs on the small M_k and reproduces
// sklearn's iterates and stopping point exactly. Because the x-scores are orthogonal,
// C_k = C_0 - P R^T (loadings P, r_j = Y_j^T t_j), and M is deflated alongside it; X and Y are
// never deflated in memory: t = Xk w = X0 w - T (P^T w) and Xk^T t = X0^T t - P (T^T t).
//
// Every split's training stimuli are all stimuli but its test ones, so C_0 of a split is
// X^T Y over all stimuli minus the test stimuli's part (plus a mean correction): the big
// cross-product is formed once. Per component, one pass over X gives X W for the weight vectors
// of all splits and a second gives X^T T for their scores; the remaining products touch only the
// test stimuli.
#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "compare/regression.hpp"

extern "C" {
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
}

namespace lrm::compare {
namespace {

using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr double eps = std::numeric_limits<double>::epsilon();
// Feature columns per tile of the X passes: a tile of up to ~10 double vectors stays in L1.
constexpr Eigen::Index tile = 256;

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

// Threads only pay off above about a million multiply-adds (more so on a loaded machine).
template <class A, class B>
bool worth_threads(A rows, B cols) {
  return static_cast<double>(rows) * static_cast<double>(cols) > 1e6;
}

// Columns [begin, begin + len) of up to four rows of X as double; missing rows repeat the first.
void load_rows(const FeatureMatrix& x, const Eigen::Index* rows, Eigen::Index count,
               Eigen::Index begin, Eigen::Index len, double (*out)[tile]) {
  for (Eigen::Index r = 0; r < 4; ++r) {
    const float* src = x.data() + x.cols() * rows[r < count ? r : 0] + begin;
#pragma omp simd
    for (Eigen::Index j = 0; j < len; ++j) out[r][j] = static_cast<double>(src[j]);
  }
}

// X[rows] W^T (rows x S) for the S weight vectors in the rows of w. Each thread owns whole rows.
RowMatrixXd times_weights(const FeatureMatrix& x, const Rows& rows, const RowMatrixXd& w) {
  const auto n = static_cast<Eigen::Index>(rows.size());
  const Eigen::Index p = x.cols(), s_count = w.rows();
  RowMatrixXd a = RowMatrixXd::Zero(n, s_count);
#pragma omp parallel for schedule(dynamic) if (worth_threads(n * s_count, p))
  for (Eigen::Index b = 0; b < n; b += 4) {
    const Eigen::Index count = std::min<Eigen::Index>(4, n - b);
    alignas(64) double buf[4][tile];
    for (Eigen::Index j0 = 0; j0 < p; j0 += tile) {
      const Eigen::Index len = std::min(tile, p - j0);
      load_rows(x, rows.data() + b, count, j0, len, buf);
      for (Eigen::Index s = 0; s < s_count; ++s) {
        const double* ws = w.data() + s * p + j0;
        double d0 = 0, d1 = 0, d2 = 0, d3 = 0;
#pragma omp simd reduction(+ : d0, d1, d2, d3)
        for (Eigen::Index j = 0; j < len; ++j) {
          d0 += buf[0][j] * ws[j];
          d1 += buf[1][j] * ws[j];
          d2 += buf[2][j] * ws[j];
          d3 += buf[3][j] * ws[j];
        }
        const double d[4] = {d0, d1, d2, d3};
        for (Eigen::Index r = 0; r < count; ++r) a(b + r, s) += d[r];
      }
    }
  }
  return a;
}

// T^T X[rows] (S x features) for the S score vectors in the columns of t. Each thread owns whole
// feature tiles, so every entry sums the rows in the same order whatever the thread count.
RowMatrixXd transpose_times_scores(const FeatureMatrix& x, const Rows& rows, const RowMatrixXd& t) {
  const auto n = static_cast<Eigen::Index>(rows.size());
  const Eigen::Index p = x.cols(), s_count = t.cols();
  RowMatrixXd z = RowMatrixXd::Zero(s_count, p);
#pragma omp parallel for schedule(dynamic) if (worth_threads(n * s_count, p))
  for (Eigen::Index j0 = 0; j0 < p; j0 += tile) {
    const Eigen::Index len = std::min(tile, p - j0);
    alignas(64) double buf[4][tile];
    for (Eigen::Index b = 0; b < n; b += 4) {
      const Eigen::Index count = std::min<Eigen::Index>(4, n - b);
      load_rows(x, rows.data() + b, count, j0, len, buf);
      for (Eigen::Index s = 0; s < s_count; ++s) {
        double c[4] = {0, 0, 0, 0};
        for (Eigen::Index r = 0; r < count; ++r) c[r] = t(b + r, s);
        double* zs = z.data() + s * p + j0;
#pragma omp simd
        for (Eigen::Index j = 0; j < len; ++j)
          zs[j] += c[0] * buf[0][j] + c[1] * buf[1][j] + c[2] * buf[2][j] + c[3] * buf[3][j];
      }
    }
  }
  return z;
}

// For each split a: X[rows_a]^T v_a, all splits in one pass over feature tiles.
RowMatrixXd transpose_times_each(const FeatureMatrix& x, const std::vector<const Rows*>& rows,
                                 const std::vector<Eigen::VectorXd>& v) {
  const Eigen::Index p = x.cols();
  const auto s_count = static_cast<Eigen::Index>(rows.size());
  RowMatrixXd z = RowMatrixXd::Zero(s_count, p);
  std::size_t total_rows = 0;
  for (const Rows* r : rows) total_rows += r->size();
#pragma omp parallel for schedule(dynamic) if (worth_threads(total_rows, p))
  for (Eigen::Index j0 = 0; j0 < p; j0 += tile) {
    const Eigen::Index len = std::min(tile, p - j0);
    for (Eigen::Index s = 0; s < s_count; ++s) {
      const Rows& r = *rows[static_cast<std::size_t>(s)];
      const Eigen::VectorXd& vs = v[static_cast<std::size_t>(s)];
      const auto n = static_cast<Eigen::Index>(r.size());
      double* zs = z.data() + s * p + j0;
      // Each row is used once here, so it is read as float directly (no double copy to amortise).
      for (Eigen::Index b = 0; b < n; b += 4) {
        const float* xr[4];
        double c[4] = {0, 0, 0, 0};
        for (Eigen::Index i = 0; i < 4; ++i) {
          const bool present = b + i < n;
          xr[i] = x.data() + x.cols() * r[static_cast<std::size_t>(present ? b + i : b)] + j0;
          if (present) c[i] = vs[b + i];
        }
#pragma omp simd
        for (Eigen::Index j = 0; j < len; ++j)
          zs[j] += c[0] * static_cast<double>(xr[0][j]) + c[1] * static_cast<double>(xr[1][j]) +
                   c[2] * static_cast<double>(xr[2][j]) + c[3] * static_cast<double>(xr[3][j]);
      }
    }
  }
  return z;
}

// For each split a: X[rows_a] w_a, w_a the rows of w.
std::vector<Eigen::VectorXd> times_each(const FeatureMatrix& x,
                                        const std::vector<const Rows*>& rows,
                                        const RowMatrixXd& w) {
  const Eigen::Index p = x.cols();
  std::vector<std::pair<std::size_t, std::size_t>> jobs;  // (split, position in its rows)
  std::vector<Eigen::VectorXd> out(rows.size());
  for (std::size_t s = 0; s < rows.size(); ++s) {
    out[s].resize(static_cast<Eigen::Index>(rows[s]->size()));
    for (std::size_t i = 0; i < rows[s]->size(); ++i) jobs.emplace_back(s, i);
  }
#pragma omp parallel for schedule(dynamic, 16) if (worth_threads(jobs.size(), p))
  for (std::size_t job = 0; job < jobs.size(); ++job) {
    const auto [s, i] = jobs[job];
    const float* row = x.data() + (*rows[s])[i] * p;
    const double* ws = w.data() + static_cast<Eigen::Index>(s) * p;
    double d = 0;
#pragma omp simd reduction(+ : d)
    for (Eigen::Index j = 0; j < p; ++j) d += static_cast<double>(row[j]) * ws[j];
    out[s][static_cast<Eigen::Index>(i)] = d;
  }
  return out;
}

// The component loop makes many small BLAS calls (power iterations, per-split products) from
// OpenMP threads; OpenBLAS's own threads would only add synchronisation and spin-waiting there.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() : saved_(openblas_get_num_threads()) { openblas_set_num_threads(1); }
  ~SingleThreadedBlas() { openblas_set_num_threads(saved_); }
  SingleThreadedBlas(const SingleThreadedBlas&) = delete;
  SingleThreadedBlas& operator=(const SingleThreadedBlas&) = delete;

 private:
  int saved_;
};

// One split's fit in progress. Stimulus indices index y; x_test holds the rows of X.
struct SplitFit {
  Rows train, test, x_test;
  Eigen::VectorXd x_mean, y_mean, delta;  // delta: y_mean minus the mean over all stimuli
  Eigen::MatrixXd y_test;                 // test targets minus the mean over all stimuli
  Eigen::MatrixXd m;                      // C_k^T C_k
  Eigen::MatrixXd p, q, r;                // x-loadings, y-loadings, Y_k^T t_k
  Eigen::MatrixXd w;                      // x-weights, kept only to form coef
  Eigen::MatrixXd ptw;                    // P^T W
  Eigen::MatrixXd t;                      // x-scores by stimulus (0 off the training set)
  Eigen::MatrixXd test_scores;            // (X_test - x_mean) w_k
  Eigen::VectorXd y_ss, rss;              // per target: |Y_0 col|^2 and |Y_k col|^2
  std::vector<char> masked;               // targets sklearn has zeroed (their residual was ~0)
  std::vector<int> iterations;
  int components = 0;
  bool done = false;
  Eigen::VectorXd u;  // this component's y-side vector, from the power iteration
};

// sklearn zeroes targets whose residual is all below 10 eps and starts the power iteration at the
// first target with an entry above eps. A target whose residual sum of squares (tracked by
// downdating) is far above both thresholds needs no look at Y_k; otherwise Y_k is formed.
// Returns that first target, or -1 when the Y residual is constant.
Eigen::Index update_mask(SplitFit& f, const Eigen::MatrixXd& y) {
  const auto n_train = static_cast<double>(f.train.size());
  const auto q = static_cast<Eigen::Index>(f.masked.size());
  bool doubtful = false;
  for (Eigen::Index j = 0; j < q; ++j)
    if (!f.masked[j] && !(f.rss[j] > 1e-6 * f.y_ss[j] && f.rss[j] > 400 * n_train * eps * eps))
      doubtful = true;
  if (!doubtful) {
    for (Eigen::Index j = 0; j < q; ++j)
      if (!f.masked[j]) return j;
    return -1;
  }
  const int k = f.components;
  Eigen::MatrixXd yk(static_cast<Eigen::Index>(f.train.size()), q);
  for (std::size_t i = 0; i < f.train.size(); ++i) {
    const auto r = static_cast<Eigen::Index>(i);
    yk.row(r) = y.row(f.train[i]) - f.y_mean.transpose();
    // Before the first component the product is empty, which BLAS rejects (lda = 0).
    if (k > 0) yk.row(r) -= f.t.row(f.train[i]).head(k) * f.q.leftCols(k).transpose();
  }
  Eigen::Index first = -1;
  for (Eigen::Index j = 0; j < q; ++j) {
    if (f.masked[j]) continue;
    if ((yk.col(j).array().abs() < 10 * eps).all()) {
      f.masked[j] = 1;
      f.rss[j] = 0;
      f.m.row(j).setZero();
      f.m.col(j).setZero();
    } else if (first < 0 && (yk.col(j).array().abs() > eps).any()) {
      first = j;
    }
  }
  return first;
}

// sklearn's power iteration from u = e_first, on M; returns u and the iteration count.
Eigen::VectorXd power_iteration(const Eigen::MatrixXd& m, Eigen::Index first,
                                const PlsOptions& options, int& iterations) {
  const Eigen::Index q = m.rows();
  Eigen::VectorXd u = Eigen::VectorXd::Unit(q, first);
  Eigen::VectorXd mu_u = m * u;
  double norm2 = u.dot(mu_u);  // |C u|^2
  int it = 0;
  for (; it < options.max_iter; ++it) {
    if (q == 1 || it + 1 >= options.max_iter) break;
    // |x_w(i) - x_w(i-1)|^2 = 2 - 2 cos(C u_i, C u_{i-1}), all from M.
    Eigen::VectorXd next = mu_u / std::sqrt(norm2);
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
  iterations = std::min(it + 1, options.max_iter);
  return u;
}

std::vector<SplitFit> init_fits(const Rows& x_rows, const Eigen::MatrixXd& y,
                                const Eigen::MatrixXd& yc, const std::vector<Split>& splits,
                                Eigen::Index p, int k_max, bool keep_weights) {
  const auto n = static_cast<Eigen::Index>(x_rows.size());
  const Eigen::Index q = y.cols();
  const Eigen::VectorXd y_all_mean = y.colwise().mean().transpose();
  std::vector<SplitFit> fits(splits.size());
  for (std::size_t s = 0; s < splits.size(); ++s) {
    SplitFit& fit = fits[s];
    fit.train = splits[s].train;
    fit.test = splits[s].test;
    const auto n_train = static_cast<Eigen::Index>(fit.train.size());
    const auto n_test = static_cast<Eigen::Index>(fit.test.size());
    if (n_train < 2) throw InputError("PLS needs at least 2 training stimuli");
    for (auto i : fit.test) fit.x_test.push_back(x_rows[i]);
    fit.y_test = yc(fit.test, Eigen::all);
    fit.y_mean = Eigen::VectorXd::Zero(q);
    for (auto i : fit.train) fit.y_mean += y.row(i).transpose();
    fit.y_mean /= static_cast<double>(n_train);
    fit.delta = fit.y_mean - y_all_mean;
    fit.y_ss = Eigen::VectorXd::Zero(q);
    for (auto i : fit.train) fit.y_ss += (y.row(i).transpose() - fit.y_mean).cwiseAbs2();
    fit.rss = fit.y_ss;
    fit.x_mean.resize(p);
    fit.m = Eigen::MatrixXd::Zero(q, q);
    fit.p.resize(p, k_max);
    fit.q.resize(q, k_max);
    fit.r.resize(q, k_max);
    if (keep_weights) fit.w.resize(p, k_max);
    fit.ptw = Eigen::MatrixXd::Zero(k_max, k_max);
    fit.t = Eigen::MatrixXd::Zero(n, k_max);
    fit.test_scores.resize(n_test, k_max);
    fit.masked.assign(static_cast<std::size_t>(q), 0);
  }
  return fits;
}

// Returns F = X^T Yc over all stimuli and sets, per split, x_mean and M_0 = C_0^T C_0 with
// C_0 = X_train^T (Y_train - y_mean) = F - X_test^T Yc_test - (sum of X_train) delta^T,
// by blocks of features so that neither X as double nor any C_0 is ever held whole.
Eigen::MatrixXd cross_products(const FeatureMatrix& x, const Rows& x_rows,
                               const Eigen::MatrixXd& yc, std::vector<SplitFit>& fits) {
  const auto n = static_cast<Eigen::Index>(x_rows.size());
  const Eigen::Index p = x.cols();
  Eigen::MatrixXd f(p, yc.cols());
  std::vector<char> c0_nonzero(fits.size(), 0);
  constexpr Eigen::Index feature_block = 128;
  for (Eigen::Index j0 = 0; j0 < p; j0 += feature_block) {
    const Eigen::Index len = std::min(feature_block, p - j0);
    RowMatrixXd xb(n, len);
    for (Eigen::Index i = 0; i < n; ++i)
      xb.row(i) = x.row(x_rows[i]).segment(j0, len).cast<double>();
    f.middleRows(j0, len).noalias() = xb.transpose() * yc;
    const Eigen::RowVectorXd sum = xb.colwise().sum();
    for (std::size_t s = 0; s < fits.size(); ++s) {
      SplitFit& fit = fits[s];
      const auto n_train = static_cast<double>(fit.train.size());
      const RowMatrixXd xt = xb(fit.test, Eigen::all);
      fit.x_mean.segment(j0, len) = (sum - xt.colwise().sum()).transpose() / n_train;
      Eigen::MatrixXd c0 = f.middleRows(j0, len);
      c0.noalias() -= xt.transpose() * fit.y_test;
      c0.noalias() -= (n_train * fit.x_mean.segment(j0, len)) * fit.delta.transpose();
      c0_nonzero[s] |= !c0.isZero(0.0);
      fit.m.selfadjointView<Eigen::Lower>().rankUpdate(c0.transpose());
    }
  }
  for (std::size_t s = 0; s < fits.size(); ++s) {
    if (!c0_nonzero[s] && fits[s].y_ss.sum() > 0)
      throw InputError("all features are constant over the training stimuli (PLS is undefined)");
    fits[s].m = fits[s].m.selfadjointView<Eigen::Lower>();
  }
  return f;
}

// The splits fitting another component: each unfinished split's target mask and power iteration
// (in parallel); a split whose Y residual is constant is done.
std::vector<SplitFit*> start_component(std::vector<SplitFit>& fits, const Eigen::MatrixXd& y,
                                       const PlsOptions& options) {
  std::vector<char> proceed(fits.size(), 0);
#pragma omp parallel for schedule(dynamic) if (fits.size() > 1)
  for (std::size_t s = 0; s < fits.size(); ++s) {
    SplitFit& fit = fits[s];
    if (fit.done) continue;
    const Eigen::Index first = update_mask(fit, y);
    if (first < 0) {
      fit.done = true;
      continue;
    }
    int iterations = 0;
    fit.u = power_iteration(fit.m, first, options, iterations);
    fit.iterations.push_back(iterations);
    proceed[s] = 1;
  }
  std::vector<SplitFit*> active;
  for (std::size_t s = 0; s < fits.size(); ++s)
    if (proceed[s]) active.push_back(&fits[s]);
  return active;
}

// Component k's x-weights of the active splits (rows):
// x_w = C_k u = F u - X_test^T (Yc_test u) - (sum of X_train)(delta . u) - P (R^T u), normalised
// with sklearn's sign (largest entry positive).
RowMatrixXd component_weights(const FeatureMatrix& x, const Eigen::MatrixXd& f,
                              const std::vector<SplitFit*>& active,
                              const std::vector<const Rows*>& test_rows, int k) {
  const auto s_count = static_cast<Eigen::Index>(active.size());
  Eigen::MatrixXd u(f.cols(), s_count);
  std::vector<Eigen::VectorXd> y_test_u;
  for (Eigen::Index a = 0; a < s_count; ++a) {
    u.col(a) = active[a]->u;
    // BLAS rejects products with an empty matrix (lda = 0): a fit without test rows skips them.
    const auto& y_test = active[a]->y_test;
    y_test_u.push_back(y_test.rows() ? Eigen::VectorXd(y_test * active[a]->u) : Eigen::VectorXd());
  }
  const Eigen::MatrixXd fu = f * u;
  const RowMatrixXd test_part = transpose_times_each(x, test_rows, y_test_u);
  RowMatrixXd w(s_count, x.cols());
#pragma omp parallel for schedule(dynamic) if (s_count > 1)
  for (Eigen::Index a = 0; a < s_count; ++a) {
    const SplitFit& fit = *active[a];
    Eigen::VectorXd xw = fu.col(a) - test_part.row(a).transpose();
    xw -= (static_cast<double>(fit.train.size()) * fit.delta.dot(fit.u)) * fit.x_mean;
    if (k > 0) xw.noalias() -= fit.p.leftCols(k) * (fit.r.leftCols(k).transpose() * fit.u);
    xw /= xw.norm() + eps;
    Eigen::Index biggest = 0;
    xw.cwiseAbs().maxCoeff(&biggest);
    if (xw[biggest] < 0) xw = -xw;
    w.row(a) = xw.transpose();
  }
  return w;
}

// Component k's x-scores t = Xk w = X0 w - T (P^T w) at the training stimuli (columns; 0
// elsewhere); stores X0 w at the test stimuli, P^T w and the weights in each fit.
RowMatrixXd component_scores(const FeatureMatrix& x, const Rows& x_rows, const RowMatrixXd& w,
                             const std::vector<SplitFit*>& active, int k) {
  const auto s_count = static_cast<Eigen::Index>(active.size());
  const RowMatrixXd xw = times_weights(x, x_rows, w);
  RowMatrixXd scores = RowMatrixXd::Zero(static_cast<Eigen::Index>(x_rows.size()), s_count);
#pragma omp parallel for schedule(dynamic) if (s_count > 1)
  for (Eigen::Index a = 0; a < s_count; ++a) {
    SplitFit& fit = *active[a];
    const Eigen::VectorXd wa = w.row(a).transpose();
    const double offset = fit.x_mean.dot(wa);
    fit.ptw.col(k).head(k) = fit.p.leftCols(k).transpose() * wa;
    const auto p_w = fit.ptw.col(k).head(k);
    for (auto i : fit.train) scores(i, a) = xw(i, a) - offset - fit.t.row(i).head(k).dot(p_w);
    for (std::size_t i = 0; i < fit.test.size(); ++i)
      fit.test_scores(static_cast<Eigen::Index>(i), k) = xw(fit.test[i], a) - offset;
    if (fit.w.size()) fit.w.col(k) = wa;
  }
  for (Eigen::Index a = 0; a < s_count; ++a)
    if (!(scores.col(a).squaredNorm() > 0))
      throw InputError("PLS component " + std::to_string(k + 1) +
                       " has zero x-scores (constant features?)");
  return scores;
}

// Component k's loadings p = Xk^T t / tt = (X0^T t - P (T^T t)) / tt and r = Yk^T t (zero for
// zeroed targets), stored in each fit with q = r / tt; returns the new p of each split (rows).
RowMatrixXd component_loadings(const FeatureMatrix& x, const Rows& x_rows,
                               const Eigen::MatrixXd& yc, const RowMatrixXd& scores,
                               const RowMatrixXd& w, const std::vector<SplitFit*>& active, int k) {
  const auto s_count = static_cast<Eigen::Index>(active.size());
  const RowMatrixXd xt = transpose_times_scores(x, x_rows, scores);
  RowMatrixXd p_new(s_count, x.cols());
#pragma omp parallel for schedule(dynamic) if (s_count > 1)
  for (Eigen::Index a = 0; a < s_count; ++a) {
    SplitFit& fit = *active[a];
    const Eigen::VectorXd t = scores.col(a);
    const double tt = t.squaredNorm(), t_sum = t.sum();
    const Eigen::VectorXd t_prev_t = fit.t.leftCols(k).transpose() * t;
    Eigen::VectorXd pk = xt.row(a).transpose() - t_sum * fit.x_mean;
    pk.noalias() -= fit.p.leftCols(k) * t_prev_t;
    pk /= tt;
    Eigen::VectorXd r = yc.transpose() * t - t_sum * fit.delta;
    r.noalias() -= fit.q.leftCols(k) * t_prev_t;
    for (Eigen::Index j = 0; j < r.size(); ++j)
      if (fit.masked[j]) r[j] = 0;
    // P^T W is upper triangular in exact arithmetic (Xk w_j = 0 for j < k).
    fit.ptw(k, k) = pk.dot(w.row(a).transpose());
    fit.p.col(k) = pk;
    fit.r.col(k) = r;
    fit.q.col(k) = r / tt;
    fit.rss -= fit.q.col(k).cwiseAbs2() * tt;
    fit.t.col(k) = t;
    fit.components = k + 1;
    p_new.row(a) = pk.transpose();
  }
  return p_new;
}

// Deflates each active split's M after component k: M_{k+1} = (C_k - p r^T)^T (C_k - p r^T), with
// g = C_k^T p = F^T p - Yc_test^T (X_test p) - delta (sum of X_train . p) - R (P^T p).
void deflate(const FeatureMatrix& x, const Eigen::MatrixXd& f, const RowMatrixXd& p_new,
             const std::vector<SplitFit*>& active, const std::vector<const Rows*>& test_rows,
             int k) {
  const auto s_count = static_cast<Eigen::Index>(active.size());
  const Eigen::MatrixXd ftp = f.transpose() * p_new.transpose();
  const std::vector<Eigen::VectorXd> test_p = times_each(x, test_rows, p_new);
#pragma omp parallel for schedule(dynamic) if (s_count > 1)
  for (Eigen::Index a = 0; a < s_count; ++a) {
    SplitFit& fit = *active[a];
    const auto pk = fit.p.col(k);
    const auto r = fit.r.col(k);
    Eigen::VectorXd g = ftp.col(a);
    if (fit.y_test.rows())
      g.noalias() -= fit.y_test.transpose() * test_p[static_cast<std::size_t>(a)];
    g -= (static_cast<double>(fit.train.size()) * fit.x_mean.dot(pk)) * fit.delta;
    if (k > 0) g.noalias() -= fit.r.leftCols(k) * (fit.p.leftCols(k).transpose() * pk);
    fit.m.noalias() -= g * r.transpose() + r * g.transpose();
    fit.m.noalias() += pk.squaredNorm() * r * r.transpose();
    for (Eigen::Index j = 0; j < fit.m.rows(); ++j)
      if (fit.masked[j]) fit.m.row(j).setZero(), fit.m.col(j).setZero();
  }
}

std::vector<SplitFit> fit_splits(const FeatureMatrix& x, const Rows& x_rows,
                                 const Eigen::MatrixXd& y, const std::vector<Split>& splits,
                                 const PlsOptions& options, bool keep_weights) {
  const Eigen::Index p = x.cols();
  const int k_max = options.n_components;
  if (y.rows() != static_cast<Eigen::Index>(x_rows.size()))
    throw InputError("PLS: targets and feature rows differ in stimuli");
  if (k_max < 1 || k_max > p)
    throw InputError("PLS with " + std::to_string(k_max) +
                     " components needs at least as many features; the layer has " +
                     std::to_string(p));
  const Eigen::MatrixXd yc = y.rowwise() - y.colwise().mean();  // centred once: F is well scaled
  auto fits = init_fits(x_rows, y, yc, splits, p, k_max, keep_weights);
  const Eigen::MatrixXd f = cross_products(x, x_rows, yc, fits);
  const SingleThreadedBlas single_threaded_blas;
  for (int k = 0; k < k_max; ++k) {
    check_interrupt();
    const auto active = start_component(fits, y, options);
    if (active.empty()) break;
    std::vector<const Rows*> test_rows;
    for (const SplitFit* fit : active) test_rows.push_back(&fit->x_test);
    const RowMatrixXd w = component_weights(x, f, active, test_rows, k);
    const RowMatrixXd scores = component_scores(x, x_rows, w, active, k);
    const RowMatrixXd p_new = component_loadings(x, x_rows, yc, scores, w, active, k);
    if (k + 1 < k_max) deflate(x, f, p_new, active, test_rows, k);
  }
  for (const auto& fit : fits)
    if (fit.components == 0)
      throw InputError(
          "PLS found no component: every target is constant over the training stimuli");
  return fits;
}

// (P^T W)^+ : with W, sklearn's x_rotations_, the map from centred features to x-scores.
Eigen::MatrixXd rotation(const SplitFit& fit) {
  const int k = fit.components;
  return pinv_old(fit.ptw.topLeftCorner(k, k));
}

}  // namespace

LinearFit fit_pls(const FeatureMatrix& x, const Rows& rows, const Eigen::MatrixXd& y,
                  const PlsOptions& options) {
  std::vector<Split> one(1);
  one[0].train = all_rows(static_cast<Eigen::Index>(rows.size()));
  const SplitFit fit = fit_splits(x, rows, y, one, options, true).front();
  LinearFit out;
  out.x_mean = fit.x_mean;
  out.y_mean = fit.y_mean;
  out.components_used = fit.components;
  out.iterations = fit.iterations;
  out.coef =
      fit.w.leftCols(fit.components) * rotation(fit) * fit.q.leftCols(fit.components).transpose();
  return out;
}

PlsCrossValidation cross_validate_pls(const FeatureMatrix& x, const Rows& x_rows,
                                      const Eigen::MatrixXd& y, const std::vector<Split>& splits,
                                      const PlsOptions& options) {
  const auto fits = fit_splits(x, x_rows, y, splits, options, false);
  PlsCrossValidation out;
  for (const auto& fit : fits) {
    const int k = fit.components;
    Eigen::MatrixXd prediction =
        fit.test_scores.leftCols(k) * rotation(fit) * fit.q.leftCols(k).transpose();
    prediction.rowwise() += fit.y_mean.transpose();
    out.prediction.push_back(std::move(prediction));
    out.components_used.push_back(k);
  }
  return out;
}

}  // namespace lrm::compare
