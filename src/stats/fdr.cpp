#include "stats/fdr.hpp"

#include <algorithm>
#include <cmath>
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
void adjust_sorted(const std::vector<std::pair<double, std::int64_t>>& sorted, std::int64_t m,
                   std::int64_t n, double cn, double alpha, FdrResult& out) {
  std::int64_t last_rejected = 0;
  for (std::int64_t r = 1; r <= m; ++r)
    if (sorted[r - 1].first <= rank_factor(r, n, cn) * alpha) last_rejected = r;
  double running = std::numeric_limits<double>::infinity();
  for (std::int64_t r = m; r >= 1; --r) {
    const auto& [p, index] = sorted[r - 1];
    running = std::min(running, p / rank_factor(r, n, cn));
    out.p_adjusted[index] = std::min(running, 1.0);
    out.rejected[index] = r <= last_rejected;
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
  adjust_sorted(sorted, m, n, c_n(n, method), alpha, out);
  if (m < n) std::fill(out.p_adjusted.begin(), out.p_adjusted.end(), nan);
  return out;
}

FdrResult fdr_of_t(const double* t, const double* df, std::int64_t n, FdrMethod method,
                   double alpha) {
  check_alpha(alpha);
  FdrResult out{std::vector<double>(n, 1.0), std::vector<std::uint8_t>(n, 0)};
  if (n == 0) return out;
  const double cn = c_n(n, method);
  double df_max = 0.0;
  for (std::int64_t u = 0; u < n; ++u) {
    if (std::isnan(t[u]))
      out.p_adjusted[u] = nan;
    else
      df_max = std::max(df_max, df[u]);
  }
  // Units whose p is certainly ≥ 1/c_n keep adjusted p = 1; the margin keeps units at the border
  // on the exact path.
  double t_cut = 0.0;
  if (cn > 1.0 && df_max > 0.0) t_cut = t_critical(1.0 / cn, df_max) * (1.0 - 1e-9);
  std::int64_t n_candidates = 0;
  for (std::int64_t u = 0; u < n; ++u) n_candidates += std::fabs(t[u]) > t_cut;
  std::vector<std::pair<double, std::int64_t>> sorted;
  sorted.reserve(n_candidates);
  for (std::int64_t u = 0; u < n; ++u)
    if (std::fabs(t[u]) > t_cut) sorted.emplace_back(0.0, u);
#pragma omp parallel for schedule(dynamic, 256)
  for (std::int64_t i = 0; i < n_candidates; ++i) {
    const auto u = sorted[i].second;
    sorted[i].first = t_pvalue(t[u], df[u]);
  }
  std::sort(sorted.begin(), sorted.end());
  // Ranks 1..m hold every p below 1/c_n; the rest have adjusted p = 1 and are never rejected.
  const double p_cut = 1.0 / cn;
  const auto m = static_cast<std::int64_t>(
      std::lower_bound(sorted.begin(), sorted.end(), std::make_pair(p_cut, std::int64_t{-1})) -
      sorted.begin());
  adjust_sorted(sorted, cn > 1.0 ? m : n_candidates, n, cn, alpha, out);
  return out;
}

}  // namespace lrm::stats
