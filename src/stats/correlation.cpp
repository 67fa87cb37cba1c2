#include "stats/correlation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>

#include "common/error.hpp"

namespace lrm::stats {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

void check_sizes(const VectorRef& x, const VectorRef& y) {
  if (x.size() != y.size())
    throw InputError("correlation of vectors of different lengths (" + std::to_string(x.size()) +
                     " and " + std::to_string(y.size()) + ")");
}

bool has_nan(const VectorRef& x) { return !(x.array() == x.array()).all(); }

// Sum over groups of equal values (in a sorted sequence) of t(t-1)/2: the number of tied pairs.
template <typename Equal>
std::int64_t tied_pairs(std::size_t n, Equal equal) {
  std::int64_t pairs = 0;
  std::size_t start = 0;
  for (std::size_t i = 1; i <= n; ++i) {
    if (i == n || !equal(i - 1, i)) {
      const auto t = static_cast<std::int64_t>(i - start);
      pairs += t * (t - 1) / 2;
      start = i;
    }
  }
  return pairs;
}

// Strict inversions (i < j with v[i] > v[j]) by merge sort; v is sorted on return.
std::int64_t count_inversions(std::vector<double>& v, std::vector<double>& buffer, std::size_t lo,
                              std::size_t hi) {
  if (hi - lo < 2) return 0;
  const std::size_t mid = lo + (hi - lo) / 2;
  std::int64_t count = count_inversions(v, buffer, lo, mid) + count_inversions(v, buffer, mid, hi);
  std::size_t i = lo, j = mid, k = lo;
  while (i < mid && j < hi) {
    if (v[j] < v[i]) {
      count += static_cast<std::int64_t>(mid - i);
      buffer[k++] = v[j++];
    } else {
      buffer[k++] = v[i++];
    }
  }
  while (i < mid) buffer[k++] = v[i++];
  while (j < hi) buffer[k++] = v[j++];
  std::copy(buffer.begin() + lo, buffer.begin() + hi, v.begin() + lo);
  return count;
}

struct KendallCounts {
  double total = 0, x_ties = 0, y_ties = 0, concordant_minus_discordant = 0;
};

// The pair counts of scipy's kendalltau: sort by (x, y), count discordant pairs as inversions of
// y, and ties in x, in y, and in both.
KendallCounts kendall_counts(const VectorRef& x, const VectorRef& y) {
  const auto n = static_cast<std::size_t>(x.size());
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return x[a] < x[b] || (x[a] == x[b] && y[a] < y[b]);
  });
  std::vector<double> xs(n), ys(n);
  for (std::size_t i = 0; i < n; ++i) {
    xs[i] = x[order[i]];
    ys[i] = y[order[i]];
  }
  const std::int64_t x_ties =
      tied_pairs(n, [&](std::size_t a, std::size_t b) { return xs[a] == xs[b]; });
  const std::int64_t both_ties =
      tied_pairs(n, [&](std::size_t a, std::size_t b) { return xs[a] == xs[b] && ys[a] == ys[b]; });
  std::vector<double> buffer(n);
  const std::int64_t discordant = count_inversions(ys, buffer, 0, n);
  const std::int64_t y_ties =
      tied_pairs(n, [&](std::size_t a, std::size_t b) { return ys[a] == ys[b]; });
  const auto total = static_cast<std::int64_t>(n) * static_cast<std::int64_t>(n - 1) / 2;
  KendallCounts c;
  c.total = static_cast<double>(total);
  c.x_ties = static_cast<double>(x_ties);
  c.y_ties = static_cast<double>(y_ties);
  c.concordant_minus_discordant =
      static_cast<double>(total - x_ties - y_ties + both_ties - 2 * discordant);
  return c;
}

}  // namespace

Eigen::VectorXd average_ranks(const VectorRef& x) {
  const auto n = static_cast<std::size_t>(x.size());
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  Eigen::VectorXd ranks(x.size());
  std::size_t start = 0;
  for (std::size_t i = 1; i <= n; ++i) {
    if (i == n || x[order[i]] != x[order[start]]) {
      // Ranks start..i-1 (0-based) share their average, 1-based.
      const double average = 0.5 * static_cast<double>(start + i - 1) + 1.0;
      for (std::size_t k = start; k < i; ++k) ranks[order[k]] = average;
      start = i;
    }
  }
  return ranks;
}

double pearson(const VectorRef& x, const VectorRef& y) {
  check_sizes(x, y);
  if (x.size() < 2) return nan;
  const Eigen::ArrayXd xc = x.array() - x.mean();
  const Eigen::ArrayXd yc = y.array() - y.mean();
  const double sxx = xc.square().sum(), syy = yc.square().sum();
  if (!(sxx > 0) || !(syy > 0)) return nan;
  const double r = (xc * yc).sum() / std::sqrt(sxx * syy);
  return std::clamp(r, -1.0, 1.0);
}

double spearman(const VectorRef& x, const VectorRef& y) {
  check_sizes(x, y);
  if (has_nan(x) || has_nan(y)) return nan;
  return pearson(average_ranks(x), average_ranks(y));
}

double kendall_tau_a(const VectorRef& x, const VectorRef& y) {
  check_sizes(x, y);
  if (x.size() < 2 || has_nan(x) || has_nan(y)) return nan;
  const auto c = kendall_counts(x, y);
  if (c.x_ties == c.total || c.y_ties == c.total) return nan;
  return c.concordant_minus_discordant / c.total;
}

double kendall_tau_b(const VectorRef& x, const VectorRef& y) {
  check_sizes(x, y);
  if (x.size() < 2 || has_nan(x) || has_nan(y)) return nan;
  const auto c = kendall_counts(x, y);
  if (c.x_ties == c.total || c.y_ties == c.total) return nan;
  const double tau =
      c.concordant_minus_discordant / std::sqrt(c.total - c.x_ties) / std::sqrt(c.total - c.y_ties);
  return std::clamp(tau, -1.0, 1.0);
}

double rho_a(const VectorRef& x, const VectorRef& y) {
  check_sizes(x, y);
  if (x.size() < 2 || has_nan(x) || has_nan(y)) return nan;
  const double n = static_cast<double>(x.size());
  const Eigen::ArrayXd rx = average_ranks(x).array() - (n + 1) / 2;
  const Eigen::ArrayXd ry = average_ranks(y).array() - (n + 1) / 2;
  return 12 * (rx * ry).sum() / (n * n * n - n);
}

double cosine(const VectorRef& x, const VectorRef& y) {
  check_sizes(x, y);
  const double nx = x.norm(), ny = y.norm();
  if (!(nx > 0) || !(ny > 0)) return nan;
  return std::clamp(x.dot(y) / (nx * ny), -1.0, 1.0);
}

double correlate(Correlation c, const VectorRef& x, const VectorRef& y) {
  switch (c) {
    case Correlation::pearson:
      return pearson(x, y);
    case Correlation::spearman:
      return spearman(x, y);
    case Correlation::kendall_tau_a:
      return kendall_tau_a(x, y);
    case Correlation::kendall_tau_b:
      return kendall_tau_b(x, y);
    case Correlation::rho_a:
      return rho_a(x, y);
    case Correlation::cosine:
      return cosine(x, y);
  }
  return nan;
}

Eigen::VectorXd pearson_columns(const Eigen::Ref<const Eigen::MatrixXd>& a,
                                const Eigen::Ref<const Eigen::MatrixXd>& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols())
    throw InputError("column-wise correlation of matrices of different shapes");
  const Eigen::Index cols = a.cols();
  Eigen::VectorXd r(cols);
#pragma omp parallel for schedule(static)
  for (Eigen::Index j = 0; j < cols; ++j) {
    const Eigen::ArrayXd ac = a.col(j).array() - a.col(j).mean();
    const Eigen::ArrayXd bc = b.col(j).array() - b.col(j).mean();
    const double saa = ac.square().sum(), sbb = bc.square().sum();
    r[j] =
        (saa > 0 && sbb > 0) ? std::clamp((ac * bc).sum() / std::sqrt(saa * sbb), -1.0, 1.0) : nan;
  }
  return r;
}

}  // namespace lrm::stats
