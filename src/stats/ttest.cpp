// Boost 1.74 with constexpr tables rebuilds its 171-entry factorial table on the stack at every
// call of unchecked_factorial, which the Student-t tail calls in a double loop: without them p
// evaluates about 3x faster, to the same bits. Only this file includes the t distribution.
#define BOOST_NO_CXX14_CONSTEXPR
#include "stats/ttest.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>

#include "common/error.hpp"

namespace lrm::stats {
namespace {

// Double precision throughout: Boost's default promotion to long double is several times slower
// and changes p by less than 1e-13 relative.
using fast_policy = boost::math::policies::policy<boost::math::policies::promote_double<false>,
                                                  boost::math::policies::promote_float<false>>;

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

constexpr std::int64_t block = 512;  // a block of units over a batch of rows stays in L2
constexpr std::int64_t tile = 16;    // units whose running sums stay in registers

// The rows of each group in a batch (CSR), so that a group's sums over a tile of units accumulate
// in registers instead of going through memory for every row.
struct BatchGroups {
  std::vector<std::int64_t> rows, start;  // rows of group g: rows[start[g]] .. rows[start[g+1]-1]
};

BatchGroups batch_groups(const int* group, std::int64_t n_rows, int n_groups) {
  BatchGroups b;
  b.start.assign(n_groups + 1, 0);
  for (std::int64_t r = 0; r < n_rows; ++r) {
    if (group[r] < -1 || group[r] >= n_groups) throw InputError("t-test: group label out of range");
    if (group[r] >= 0) ++b.start[group[r] + 1];
  }
  for (int g = 0; g < n_groups; ++g) b.start[g + 1] += b.start[g];
  b.rows.resize(b.start[n_groups]);
  std::vector<std::int64_t> at(b.start.begin(), b.start.end() - 1);
  for (std::int64_t r = 0; r < n_rows; ++r)
    if (group[r] >= 0) b.rows[at[group[r]]++] = r;
  return b;
}

// Four doubles; GCC and Clang lower the arithmetic to AVX2 or to pairs of SSE2 registers.
using Vec = double __attribute__((vector_size(32)));
using FloatVec = float __attribute__((vector_size(16)));
constexpr std::int64_t lanes = 4;

template <typename T>
__attribute__((always_inline)) inline void load(const T* p, Vec& v) {
  if constexpr (std::is_same_v<T, float>) {
    FloatVec f;
    std::memcpy(&f, p, sizeof f);
    v = __builtin_convertvector(f, Vec);
  } else {
    std::memcpy(&v, p, sizeof v);
  }
}

// Sum, then squared deviations from the mean, of the `rows` (at least one) of one group over a
// tile of units starting at `data`, the running sums in registers; plain sums without finiteness
// checks (a non-finite value makes its unit's sum non-finite, which the caller detects).
template <typename T>
__attribute__((always_inline)) inline void tile_moments(const T* data, std::int64_t stride,
                                                        const std::int64_t* rows,
                                                        std::int64_t n_rows, double* mean,
                                                        double* ss) {
  constexpr std::int64_t n_vecs = tile / lanes;
  Vec acc[n_vecs] = {};
  for (std::int64_t i = 0; i < n_rows; ++i) {
    const T* row = data + rows[i] * stride;
    for (std::int64_t k = 0; k < n_vecs; ++k) {
      Vec x;
      load(row + k * lanes, x);
      acc[k] += x;
    }
  }
  Vec mu[n_vecs], dev[n_vecs] = {};
  for (std::int64_t k = 0; k < n_vecs; ++k) mu[k] = acc[k] / static_cast<double>(n_rows);
  for (std::int64_t i = 0; i < n_rows; ++i) {
    const T* row = data + rows[i] * stride;
    for (std::int64_t k = 0; k < n_vecs; ++k) {
      Vec x;
      load(row + k * lanes, x);
      const Vec d = x - mu[k];
      dev[k] += d * d;
    }
  }
  std::memcpy(mean, mu, sizeof mu);
  std::memcpy(ss, dev, sizeof dev);
}

// One unit of one group over its rows, leaving out non-finite values: the path for the units after
// the last whole tile and for the few whose plain sums came out non-finite.
template <typename T>
void column_moments(const T* data, std::int64_t stride, const std::int64_t* rows,
                    std::int64_t n_rows, std::int32_t& count, double& mean, double& ss) {
  constexpr T largest = std::numeric_limits<T>::max();
  double sum = 0.0;
  count = 0;
  for (std::int64_t i = 0; i < n_rows; ++i) {
    const T v = data[rows[i] * stride];
    if (std::fabs(v) <= largest) sum += static_cast<double>(v), ++count;
  }
  mean = count > 0 ? sum / count : 0.0;
  ss = 0.0;
  for (std::int64_t i = 0; i < n_rows; ++i) {
    const T v = data[rows[i] * stride];
    if (std::fabs(v) <= largest)
      ss += (static_cast<double>(v) - mean) * (static_cast<double>(v) - mean);
  }
}

// One block of `w` units over a batch of rows: per-group count, mean and squared deviations (two
// passes, as numpy's var, while the block is in cache). Also compiled for AVX2, chosen at run time.
template <typename T>
__attribute__((target_clones("avx2", "default"))) void block_moments(
    const T* data, std::int64_t stride, std::int64_t w, const BatchGroups& groups, int n_groups,
    std::int32_t* count, double* mean, double* ss) {
  for (int g = 0; g < n_groups; ++g) {
    const std::int64_t* rows = groups.rows.data() + groups.start[g];
    const std::int64_t n_rows = groups.start[g + 1] - groups.start[g];
    double* m = mean + g * block;
    double* s = ss + g * block;
    std::int32_t* n = count + g * block;
    const std::int64_t tiled = n_rows > 0 ? w / tile * tile : 0;
    for (std::int64_t j = 0; j < tiled; j += tile)
      tile_moments(data + j, stride, rows, n_rows, m + j, s + j);
    for (std::int64_t j = 0; j < w; ++j) {
      n[j] = static_cast<std::int32_t>(n_rows);
      if (j >= tiled || !std::isfinite(s[j]))
        column_moments(data + j, stride, rows, n_rows, n[j], m[j], s[j]);
    }
  }
}

// Merges a batch's moments (b) of `w` units into the running ones (a) with Chan et al.'s pairwise
// update. A side without values has count, mean and squared deviations 0, which the update turns
// into the other side's values exactly.
__attribute__((target_clones("avx2", "default"))) void merge_moments(
    std::int64_t w, const std::int32_t* count_b, const double* mean_b, const double* ss_b,
    std::int32_t* count_a, double* mean_a, double* ss_a) {
  for (std::int64_t j = 0; j < w; ++j) {
    const std::int32_t na = count_a[j], nb = count_b[j];
    const double n = std::max(na + nb, 1), delta = mean_b[j] - mean_a[j];
    mean_a[j] += delta * (static_cast<double>(nb) / n);
    ss_a[j] += ss_b[j] + delta * delta * (static_cast<double>(na) * nb / n);
    count_a[j] = na + nb;
  }
}

// One thread's moments of one block of units over a batch: count, mean, squared deviations per
// group.
struct BlockScratch {
  explicit BlockScratch(int n_groups)
      : count(static_cast<std::size_t>(n_groups) * block), mean(count.size()), ss(count.size()) {}
  std::vector<std::int32_t> count;
  std::vector<double> mean, ss;
};

// Adds block b (of `block` units) of a batch of rows to `m`.
template <typename T>
void accumulate_block(GroupMoments& m, const T* data, const BatchGroups& groups,
                      BlockScratch& scratch, std::int64_t b) {
  const int n_groups = static_cast<int>(m.n_groups);
  const std::int64_t n_units = m.n_units, rows_used = groups.start[n_groups];
  std::int32_t* count = scratch.count.data();
  double* mean = scratch.mean.data();
  double* ss = scratch.ss.data();
  const std::int64_t u0 = b * block, w = std::min(block, n_units - u0);
  block_moments(data + u0, n_units, w, groups, n_groups, count, mean, ss);
  for (int g = 0; g < n_groups; ++g) {
    const auto at = m.at(g, u0);
    merge_moments(w, count + g * block, mean + g * block, ss + g * block, m.count.data() + at,
                  m.mean.data() + at, m.sum_sq_dev.data() + at);
  }
  for (std::int64_t j = 0; j < w; ++j) {
    std::int64_t finite = 0;
    for (int g = 0; g < n_groups; ++g) finite += count[g * block + j];
    m.nonfinite[u0 + j] += rows_used - finite;
  }
}

template <typename T>
GroupMoments moments(const T* data, std::int64_t n_rows, std::int64_t n_units,
                     const std::vector<int>& group, int n_groups) {
  if (static_cast<std::int64_t>(group.size()) != n_rows)
    throw InputError("t-test: " + std::to_string(group.size()) + " group labels for " +
                     std::to_string(n_rows) + " rows");
  MomentAccumulator accumulator(n_units, n_groups);
  accumulator.add(data, n_rows, group.data());
  return accumulator.take();
}

}  // namespace

MomentAccumulator::MomentAccumulator(std::int64_t n_units, int n_groups) {
  m_.n_groups = n_groups;
  m_.n_units = n_units;
  const std::size_t cells = static_cast<std::size_t>(n_groups) * n_units;
  m_.count.assign(cells, 0);
  m_.mean.assign(cells, 0.0);
  m_.sum_sq_dev.assign(cells, 0.0);
  m_.nonfinite.assign(n_units, 0);
}

void MomentAccumulator::set_empty(double value) {
  for (std::size_t i = 0; i < m_.count.size(); ++i)
    if (m_.count[i] == 0) m_.mean[i] = m_.sum_sq_dev[i] = value;
}

const GroupMoments& MomentAccumulator::moments() {
  if (!handed_out_) set_empty(nan);
  handed_out_ = true;
  return m_;
}

GroupMoments MomentAccumulator::take() {
  moments();
  return std::move(m_);
}

void MomentAccumulator::add(const float* rows, std::int64_t n_rows, const int* group) {
  add_batch(rows, n_rows, group);
}

void MomentAccumulator::add(const double* rows, std::int64_t n_rows, const int* group) {
  add_batch(rows, n_rows, group);
}

template <typename T>
void MomentAccumulator::add_batch(const T* data, std::int64_t n_rows, const int* group) {
  const auto groups = batch_groups(group, n_rows, static_cast<int>(m_.n_groups));
  if (handed_out_) set_empty(0.0);
  handed_out_ = false;
  const std::int64_t n_blocks = (m_.n_units + block - 1) / block;
#pragma omp parallel
  {
    BlockScratch scratch(static_cast<int>(m_.n_groups));
#pragma omp for schedule(dynamic, 8)
    for (std::int64_t b = 0; b < n_blocks; ++b) accumulate_block(m_, data, groups, scratch, b);
  }
}

void MomentAccumulator::add_streamed(std::int64_t n_rows, std::int64_t batch, const int* group,
                                     float* buffer0, float* buffer1, const BatchReader& read,
                                     std::int64_t piece) {
  if (n_rows == 0) return;
  const std::int64_t n_batches = (n_rows + batch - 1) / batch;
  if (piece <= 0 || piece > batch) piece = batch;
  std::vector<BatchGroups> groups;
  for (std::int64_t b = 0; b < n_batches; ++b)
    groups.push_back(batch_groups(group + b * batch, std::min(batch, n_rows - b * batch),
                                  static_cast<int>(m_.n_groups)));
  if (handed_out_) set_empty(0.0);
  handed_out_ = false;
  float* const buffers[2] = {buffer0, buffer1};
  const std::int64_t n_blocks = (m_.n_units + block - 1) / block;
  const std::int64_t n_units = m_.n_units;
  // Round r reads batch r piece by piece and sums batch r − 1 block by block: every thread claims
  // pieces first, then blocks, so decoding is shared by all threads and overlaps the summing.
  // Between rounds the threads wait for one another asleep: spinning at an OpenMP barrier while
  // one of them still reads would take the CPU from other processes.
  const std::int64_t n_rounds = n_batches + 1;
  std::unique_ptr<std::atomic<std::int64_t>[]> next(new std::atomic<std::int64_t>[n_rounds]());
  std::mutex mutex;
  std::condition_variable passed;
  std::int64_t arrived = 0, generation = 0;
  std::exception_ptr error;
  std::atomic<bool> failed{false};
#pragma omp parallel
  {
    const int team = omp_get_num_threads();
    BlockScratch scratch(static_cast<int>(m_.n_groups));
    for (std::int64_t r = 0; r < n_rounds; ++r) {
      const std::int64_t first = r * batch,
                         rows = r < n_batches ? std::min(batch, n_rows - first) : 0;
      const std::int64_t n_pieces = (rows + piece - 1) / piece;
      const std::int64_t n_items = n_pieces + (r > 0 ? n_blocks : 0);
      for (std::int64_t k; (k = next[r]++) < n_items;) {
        if (failed) continue;
        try {
          if (k < n_pieces) {
            const std::int64_t row = first + k * piece;
            read(row, std::min(piece, first + rows - row),
                 buffers[r % 2] + (row - first) * n_units);
          } else {
            accumulate_block(m_, buffers[(r - 1) % 2], groups[r - 1], scratch, k - n_pieces);
          }
        } catch (...) {
          std::lock_guard<std::mutex> lock(mutex);
          if (!failed.exchange(true)) error = std::current_exception();
        }
      }
      std::unique_lock<std::mutex> lock(mutex);
      if (++arrived == team) {
        arrived = 0;
        ++generation;
        passed.notify_all();
      } else {
        const auto waiting_for = generation + 1;
        passed.wait(lock, [&] { return generation >= waiting_for; });
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

GroupMoments group_moments(const float* data, std::int64_t n_rows, std::int64_t n_units,
                           const std::vector<int>& group, int n_groups) {
  return moments(data, n_rows, n_units, group, n_groups);
}

GroupMoments group_moments(const double* data, std::int64_t n_rows, std::int64_t n_units,
                           const std::vector<int>& group, int n_groups) {
  return moments(data, n_rows, n_units, group, n_groups);
}

TStatistic t_statistic(std::int64_t n1, double mean1, double sum_sq_dev1, std::int64_t n2,
                       double mean2, double sum_sq_dev2, TTestKind kind) {
  if (n1 < 2 || n2 < 2) return {nan, nan};
  // The operations follow scipy's _ttest_ind_from_stats so results agree to rounding.
  const double v1 = sum_sq_dev1 / static_cast<double>(n1 - 1);
  const double v2 = sum_sq_dev2 / static_cast<double>(n2 - 1);
  const double d = mean1 - mean2;
  double df, denom;
  if (kind == TTestKind::student) {
    df = static_cast<double>(n1 + n2 - 2);
    const double svar = ((n1 - 1) * v1 + (n2 - 1) * v2) / df;
    denom = std::sqrt(svar * (1.0 / n1 + 1.0 / n2));
  } else {
    const double vn1 = v1 / n1, vn2 = v2 / n2;
    df = (vn1 + vn2) * (vn1 + vn2) / (vn1 * vn1 / (n1 - 1) + vn2 * vn2 / (n2 - 1));
    if (std::isnan(df)) df = 1;  // both variances zero: df does not matter, t is ±inf or NaN
    denom = std::sqrt(vn1 + vn2);
  }
  return {d / denom, df};
}

double t_pvalue(double t, double df) {
  if (std::isnan(t) || std::isnan(df)) return nan;
  if (std::isinf(t)) return 0.0;
  const boost::math::students_t_distribution<double, fast_policy> dist(df);
  return 2.0 * boost::math::cdf(boost::math::complement(dist, std::fabs(t)));
}

double t_critical(double p, double df) {
  const boost::math::students_t_distribution<double, fast_policy> dist(df);
  return boost::math::quantile(boost::math::complement(dist, p / 2.0));
}

void t_statistics(const GroupMoments& m, int a, int b, TTestKind kind, double* t, double* df) {
  const std::int64_t n = m.n_units;
#pragma omp parallel for schedule(static)
  for (std::int64_t u = 0; u < n; ++u) {
    const auto ia = m.at(a, u), ib = m.at(b, u);
    const auto s = t_statistic(m.count[ia], m.mean[ia], m.sum_sq_dev[ia], m.count[ib], m.mean[ib],
                               m.sum_sq_dev[ib], kind);
    t[u] = s.t;
    df[u] = s.df;
  }
}

TTestResult ttest_ind(const GroupMoments& m, int a, int b, TTestKind kind) {
  TTestResult r;
  r.t.resize(m.n_units);
  r.df.resize(m.n_units);
  r.p.resize(m.n_units);
  t_statistics(m, a, b, kind, r.t.data(), r.df.data());
  const std::int64_t n = m.n_units;
#pragma omp parallel for schedule(dynamic, 1024)
  for (std::int64_t u = 0; u < n; ++u) r.p[u] = t_pvalue(r.t[u], r.df[u]);
  return r;
}

TTest ttest_ind(const std::vector<double>& a, const std::vector<double>& b, TTestKind kind) {
  std::vector<double> column;
  std::vector<int> group;
  for (double v : a) column.push_back(v), group.push_back(0);
  for (double v : b) column.push_back(v), group.push_back(1);
  const auto m =
      group_moments(column.data(), static_cast<std::int64_t>(column.size()), 1, group, 2);
  const auto s = t_statistic(m.count[0], m.mean[0], m.sum_sq_dev[0], m.count[1], m.mean[1],
                             m.sum_sq_dev[1], kind);
  return {s.t, s.df, t_pvalue(s.t, s.df)};
}

TTest ttest_rel(const std::vector<double>& a, const std::vector<double>& b, Alternative alternative,
                NanPolicy nan_policy) {
  if (a.size() != b.size())
    throw InternalError("paired t-test of samples of different lengths (" +
                        std::to_string(a.size()) + " and " + std::to_string(b.size()) + ")");
  std::vector<double> d;
  bool has_nan = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const bool missing = std::isnan(a[i]) || std::isnan(b[i]);
    has_nan = has_nan || missing;
    if (!missing || nan_policy == NanPolicy::propagate) d.push_back(a[i] - b[i]);
  }
  const auto n = static_cast<double>(d.size());
  const double df = n - 1;
  if (d.size() < 2 || (has_nan && nan_policy == NanPolicy::propagate)) return {nan, df, nan};
  double sum = 0, sq = 0;
  for (double v : d) sum += v;
  const double mean = sum / n;
  for (double v : d) sq += (v - mean) * (v - mean);
  const double sd = std::sqrt(sq / df);
  const double t =
      sd > 0 ? mean / (sd / std::sqrt(n)) : (mean == 0 ? nan : std::copysign(INFINITY, mean));
  if (std::isnan(t) || alternative == Alternative::two_sided) return {t, df, t_pvalue(t, df)};
  // One-sided: p = P(T ≤ t) for `less`, P(T ≥ t) for `greater`.
  const double tail = alternative == Alternative::less ? t : -t;
  if (std::isinf(tail)) return {t, df, tail > 0 ? 1.0 : 0.0};
  const boost::math::students_t_distribution<double, fast_policy> dist(df);
  return {t, df, boost::math::cdf(dist, tail)};
}

}  // namespace lrm::stats
