#include "stats/fdr.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

#include "common/error.hpp"
#include "stats/ttest.hpp"

namespace lrm::stats {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

void check_alpha(double alpha) {
  if (!(alpha > 0.0 && alpha < 1.0))
    throw InputError("FDR level q = " + std::to_string(alpha) + " must lie in (0, 1)");
}

double c_n(std::int64_t n, FdrMethod method) {
  return method == FdrMethod::by ? harmonic_number(n) : 1.0;
}

// statsmodels' ecdffactor for rank r (1-based): (r/n)/c_n.
double rank_factor(std::int64_t r, std::int64_t n, double cn) {
  return (static_cast<double>(r) / static_cast<double>(n)) / cn;
}

// Fills adjusted p and rejections for the `m` smallest p-values (sorted ascending, ranks 1..m)
// of a family of n; values beyond rank m are known to have raw adjusted values ≥ 1.
void adjust_sorted(const std::pair<double, std::int64_t>* sorted, std::int64_t m, std::int64_t n,
                   double cn, double alpha, double* p_adjusted, std::uint8_t* rejected) {
  std::int64_t last_rejected = 0;
  for (std::int64_t r = 1; r <= m; ++r)
    if (sorted[r - 1].first <= rank_factor(r, n, cn) * alpha) last_rejected = r;
  double running = std::numeric_limits<double>::infinity();
  for (std::int64_t r = m; r >= 1; --r) {
    const auto& [p, index] = sorted[r - 1];
    running = std::min(running, p / rank_factor(r, n, cn));
    p_adjusted[index] = std::min(running, 1.0);
    rejected[index] = r <= last_rejected;
  }
}

// Sorts (value, index) pairs by descending value, values ≥ 0 (whose bit patterns order as the
// values), with a least-significant-digit radix sort: several times faster than std::sort here.
void sort_descending(HugePageVector<std::pair<double, std::int64_t>>& v,
                     HugePageVector<std::pair<double, std::int64_t>>& spare) {
  constexpr int digits = 8, radix = 256;
  const auto key = [](double x) {
    std::uint64_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    return ~bits;
  };
  std::vector<std::array<std::size_t, radix>> count(digits);
  for (const auto& e : v)
    for (int d = 0; d < digits; ++d) ++count[d][key(e.first) >> (8 * d) & (radix - 1)];
  spare.resize(v.size());
  for (int d = 0; d < digits; ++d) {
    auto& c = count[d];
    if (std::find(c.begin(), c.end(), v.size()) != c.end()) continue;  // one bucket: no reorder
    std::size_t at = 0;
    for (auto& n : c) at += std::exchange(n, at);
    for (const auto& e : v) spare[c[key(e.first) >> (8 * d) & (radix - 1)]++] = e;
    v.swap(spare);
  }
}

}  // namespace

double harmonic_number(std::int64_t n) {
  double sum = 0.0;
  for (std::int64_t k = n; k >= 1; --k) sum += 1.0 / static_cast<double>(k);
  return sum;
}

FdrResult fdr(const std::vector<double>& p, FdrMethod method, double alpha) {
  check_alpha(alpha);
  const auto n = static_cast<std::int64_t>(p.size());
  FdrResult out{std::vector<double>(n, 1.0), std::vector<std::uint8_t>(n, 0)};
  std::vector<std::pair<double, std::int64_t>> sorted;
  sorted.reserve(n);
  for (std::int64_t i = 0; i < n; ++i)
    if (!std::isnan(p[i])) sorted.emplace_back(p[i], i);
  std::sort(sorted.begin(), sorted.end());
  const auto m = static_cast<std::int64_t>(sorted.size());
  adjust_sorted(sorted.data(), m, n, c_n(n, method), alpha, out.p_adjusted.data(),
                out.rejected.data());
  if (m < n) std::fill(out.p_adjusted.begin(), out.p_adjusted.end(), nan);
  return out;
}

FdrResult fdr_of_t(const double* t, const double* df, std::int64_t n, FdrMethod method,
                   double alpha) {
  FdrResult out{std::vector<double>(n), std::vector<std::uint8_t>(n)};
  FdrScratch scratch;
  fdr_of_t(t, df, n, method, alpha, out.p_adjusted.data(), out.rejected.data(), scratch);
  return out;
}

void fdr_of_t(const double* t, const double* df, std::int64_t n, FdrMethod method, double alpha,
              double* p_adjusted, std::uint8_t* rejected, FdrScratch& scratch) {
  check_alpha(alpha);
  std::fill(p_adjusted, p_adjusted + n, 1.0);
  std::fill(rejected, rejected + n, 0);
  if (n == 0) return;
  const double cn = c_n(n, method);
  double df_min = std::numeric_limits<double>::infinity(), df_max = 0.0;
  for (std::int64_t u = 0; u < n; ++u) {
    if (std::isnan(t[u])) {
      p_adjusted[u] = nan;
    } else {
      df_min = std::min(df_min, df[u]);
      df_max = std::max(df_max, df[u]);
    }
  }
  // Units whose p is certainly ≥ 1/c_n keep adjusted p = 1; the margin keeps units at the border
  // on the exact path.
  double t_cut = 0.0;
  if (cn > 1.0 && df_max > 0.0) t_cut = t_critical(1.0 / cn, df_max) * (1.0 - 1e-9);
  std::int64_t n_candidates = 0;
  for (std::int64_t u = 0; u < n; ++u) n_candidates += std::fabs(t[u]) > t_cut;
  auto& sorted = scratch.sorted;
  sorted.clear();
  sorted.reserve(n_candidates);
  for (std::int64_t u = 0; u < n; ++u)
    if (std::fabs(t[u]) > t_cut) sorted.emplace_back(std::fabs(t[u]), u);

  std::int64_t m = n_candidates;
  const bool one_df = df_min == df_max;  // then `sorted` holds |t| and is sorted by it
  if (one_df) {
    // One df: p falls as |t| grows, so ranks follow |t|. Only ranks up to the last r with
    // p_(r) < r/(n·c_n) can have adjusted p < 1; it is found from the largest rank down, a block of
    // ranks skipped whenever its smallest p is at least the largest factor of the block.
    sort_descending(sorted, scratch.spare);
    const auto p_at = [&](std::int64_t r) { return t_pvalue(sorted[r - 1].first, df_min); };
    const auto below_factor = [&](double p, std::int64_t r) {
      return p < rank_factor(r, n, cn) * (1.0 + 1e-9);
    };
    constexpr std::int64_t stride = 256;
    std::int64_t last = 0;
    for (std::int64_t high = n_candidates; high >= 1 && last == 0; high -= stride) {
      const std::int64_t low = std::max<std::int64_t>(1, high - stride + 1);
      if (!below_factor(p_at(low) * (1.0 - 1e-9), high)) continue;
      for (std::int64_t r = high; r >= low && last == 0; --r)
        if (below_factor(p_at(r), r)) last = r;
    }
    m = last;
  }
  sorted.resize(m);
#pragma omp parallel for schedule(dynamic, 256)
  for (std::int64_t i = 0; i < m; ++i) {
    const auto u = sorted[i].second;
    sorted[i].first = one_df ? t_pvalue(sorted[i].first, df_min) : t_pvalue(t[u], df[u]);
  }
  // With one df the order by |t| is already ascending in p, but for rounding in the incomplete beta
  // function. Ties in p adjust alike in any order.
  if (!std::is_sorted(sorted.begin(), sorted.end(),
                      [](const auto& a, const auto& b) { return a.first < b.first; }))
    std::sort(sorted.begin(), sorted.end());
  // Several df: ranks 1..m hold every p below 1/c_n. Either way the ranks beyond m have adjusted
  // p = 1 and are never rejected.
  if (!one_df && cn > 1.0)
    m = std::lower_bound(sorted.begin(), sorted.end(), std::make_pair(1.0 / cn, std::int64_t{-1})) -
        sorted.begin();
  adjust_sorted(sorted.data(), m, n, cn, alpha, p_adjusted, rejected);
}

}  // namespace lrm::stats
