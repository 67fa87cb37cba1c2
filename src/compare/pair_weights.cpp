#include "compare/pair_weights.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>

namespace lrm::compare {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

void fill_dense(const Eigen::VectorXd& values, SortedVector& s) {
  s.levels = 0;
  for (std::size_t p = 0; p < s.order.size(); ++p) {
    if (p > 0 && values[s.order[p]] != values[s.order[p - 1]]) ++s.levels;
    s.dense[static_cast<std::size_t>(s.order[p])] = s.levels;
  }
  if (!s.order.empty()) ++s.levels;
}

}  // namespace

bool rank_comparison(stats::Correlation c) {
  return c == stats::Correlation::spearman || c == stats::Correlation::rho_a;
}

bool kendall_comparison(stats::Correlation c) {
  return c == stats::Correlation::kendall_tau_a || c == stats::Correlation::kendall_tau_b;
}

SortedVector sort_vector(const Eigen::VectorXd& values) {
  std::vector<PairIndex> all(static_cast<std::size_t>(values.size()));
  std::iota(all.begin(), all.end(), PairIndex{0});
  SortedVector s;
  sort_entries(values, all, s);
  return s;
}

void sort_entries(const Eigen::VectorXd& values, const std::vector<PairIndex>& kept,
                  SortedVector& out) {
  sort_order(values, kept, out.order);
  out.values = values;
  out.dense.assign(static_cast<std::size_t>(values.size()), 0);
  fill_dense(values, out);
}

void sort_order(const Eigen::VectorXd& values, const std::vector<PairIndex>& kept,
                std::vector<PairIndex>& order) {
  // A stable least-significant-digit radix sort of order-preserving integer keys (11-bit digits):
  // several times faster than a comparison sort here, where it runs five times per resample.
  // Stability keeps ties in index order.
  thread_local std::vector<std::pair<std::uint64_t, PairIndex>> a, b;
  const std::size_t n = kept.size();
  a.resize(n);
  b.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double v = values[kept[i]] == 0 ? 0.0 : values[kept[i]];  // -0 sorts as +0
    std::uint64_t u;
    std::memcpy(&u, &v, sizeof u);
    a[i] = {u >> 63 ? ~u : u | (std::uint64_t{1} << 63), kept[i]};
  }
  constexpr int bits = 11;
  constexpr std::uint64_t mask = (1u << bits) - 1;
  for (int shift = 0; shift < 64 && n > 0; shift += bits) {
    std::array<std::size_t, mask + 1> start{};
    for (const auto& e : a) ++start[(e.first >> shift) & mask];
    if (start[(a[0].first >> shift) & mask] == n) continue;  // one digit: nothing moves
    std::size_t sum = 0;
    for (auto& c : start) sum += std::exchange(c, sum);
    for (const auto& e : a) b[start[(e.first >> shift) & mask]++] = e;
    a.swap(b);
  }
  order.resize(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = a[i].second;
}

double weighted_score(stats::Correlation c, const Eigen::Ref<const Eigen::VectorXd>& x,
                      const Eigen::Ref<const Eigen::VectorXd>& y, const Eigen::VectorXd& w) {
  const double total = w.sum();
  double mx = 0, my = 0;
  if (c == stats::Correlation::rho_a) {
    mx = my = (total + 1) / 2;
  } else if (c != stats::Correlation::cosine) {
    mx = w.dot(x) / total;
    my = w.dot(y) / total;
  }
  double sxy = 0, sxx = 0, syy = 0;
  for (Eigen::Index k = 0; k < x.size(); ++k) {
    const double dx = x[k] - mx, dy = y[k] - my;
    sxy += w[k] * dx * dy;
    sxx += w[k] * dx * dx;
    syy += w[k] * dy * dy;
  }
  if (c == stats::Correlation::rho_a) return 12 * sxy / (total * total * total - total);
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : nan;
}

Eigen::MatrixXd weighted_scores(stats::Correlation c, const Eigen::MatrixXd& x,
                                const Eigen::MatrixXd& y, const Eigen::VectorXd& w) {
  // Column dot products rather than matrix products: Eigen hands those to the BLAS, whose own
  // threads would fight the resamples' (and change the rounding with the thread count).
  const double total = w.sum();
  auto centred = [&](const Eigen::MatrixXd& m) -> Eigen::MatrixXd {
    if (c == stats::Correlation::cosine) return m;
    if (c == stats::Correlation::rho_a) return m.array() - (total + 1) / 2;
    Eigen::MatrixXd out(m.rows(), m.cols());
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      out.col(j) = m.col(j).array() - w.dot(m.col(j)) / total;
    return out;
  };
  const Eigen::MatrixXd a = centred(x), b = centred(y);
  const Eigen::MatrixXd bw = b.array().colwise() * w.array();
  Eigen::MatrixXd cross(a.cols(), b.cols());
  for (Eigen::Index i = 0; i < a.cols(); ++i)
    for (Eigen::Index j = 0; j < b.cols(); ++j) cross(i, j) = a.col(i).dot(bw.col(j));
  if (c == stats::Correlation::rho_a) return 12 * cross / (total * total * total - total);
  Eigen::VectorXd ssa(a.cols()), ssb(b.cols());
  for (Eigen::Index i = 0; i < a.cols(); ++i) ssa[i] = a.col(i).cwiseProduct(a.col(i)).dot(w);
  for (Eigen::Index j = 0; j < b.cols(); ++j) ssb[j] = b.col(j).dot(bw.col(j));
  for (Eigen::Index i = 0; i < cross.rows(); ++i)
    for (Eigen::Index j = 0; j < cross.cols(); ++j)
      cross(i, j) = ssa[i] > 0 && ssb[j] > 0 ? cross(i, j) / std::sqrt(ssa[i] * ssb[j]) : nan;
  return cross;
}

double weighted_kendall(stats::Correlation c, const Eigen::VectorXd& x,
                        const std::vector<PairIndex>& x_order,
                        const std::vector<PairIndex>& y_dense, PairIndex y_levels,
                        const Eigen::VectorXd& w, std::vector<double>& tree) {
  const auto levels = static_cast<std::size_t>(y_levels);
  tree.assign(2 * (levels + 1), 0.0);  // Fenwick tree, then the weight of each y level
  double* fenwick = tree.data();
  double* level_weight = tree.data() + levels + 1;
  auto below = [&](std::size_t r) {  // total weight inserted with a y rank < r
    double s = 0;
    for (; r > 0; r -= r & (~r + 1)) s += fenwick[r];
    return s;
  };
  double inserted = 0, con_minus_dis = 0, x_ties = 0;
  const std::size_t n = x_order.size();
  for (std::size_t i = 0; i < n;) {
    // A group of equal x: its members are compared with the earlier (smaller) x only.
    std::size_t j = i;
    double group = 0;
    for (; j < n && x[x_order[j]] == x[x_order[i]]; ++j) {
      const PairIndex k = x_order[j];
      const double wk = w[k];
      if (wk == 0) continue;
      const auto r = static_cast<std::size_t>(y_dense[static_cast<std::size_t>(k)]);
      // level_weight holds what earlier groups inserted, so one tree walk gives both sides.
      const double less = below(r), not_greater = less + level_weight[r];
      con_minus_dis += wk * (less - (inserted - not_greater));
      group += wk;
    }
    for (std::size_t q = i; q < j; ++q) {
      const PairIndex k = x_order[q];
      const double wk = w[k];
      if (wk == 0) continue;
      const auto r = static_cast<std::size_t>(y_dense[static_cast<std::size_t>(k)]);
      for (std::size_t p = r + 1; p <= levels; p += p & (~p + 1)) fenwick[p] += wk;
      level_weight[r] += wk;
    }
    inserted += group;
    x_ties += group * (group - 1) / 2;
    i = j;
  }
  double y_ties = 0;
  for (std::size_t r = 0; r < levels; ++r) y_ties += level_weight[r] * (level_weight[r] - 1) / 2;
  const double pairs = inserted * (inserted - 1) / 2;
  if (c == stats::Correlation::kendall_tau_a)
    return pairs > 0 ? std::clamp(con_minus_dis / pairs, -1.0, 1.0) : nan;
  const double denominator = (pairs - x_ties) * (pairs - y_ties);
  return denominator > 0 ? std::clamp(con_minus_dis / std::sqrt(denominator), -1.0, 1.0) : nan;
}

}  // namespace lrm::compare
