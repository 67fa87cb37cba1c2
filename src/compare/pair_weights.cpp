#include "compare/pair_weights.hpp"

#include <algorithm>
#include <cmath>
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
  // Sorting (value, index) pairs keeps the comparisons in cache; ties stay in index order.
  std::vector<std::pair<double, PairIndex>> keyed(kept.size());
  for (std::size_t i = 0; i < kept.size(); ++i) keyed[i] = {values[kept[i]], kept[i]};
  std::sort(keyed.begin(), keyed.end());
  out.values = values;
  out.order.resize(kept.size());
  for (std::size_t i = 0; i < kept.size(); ++i) out.order[i] = keyed[i].second;
  out.dense.assign(static_cast<std::size_t>(values.size()), 0);
  fill_dense(values, out);
}

void weighted_ranks(const Eigen::VectorXd& x, const std::vector<PairIndex>& order,
                    const Eigen::VectorXd& w, Eigen::Ref<Eigen::VectorXd> ranks) {
  double before = 0;
  const std::size_t n = order.size();
  for (std::size_t i = 0; i < n;) {
    const double value = x[order[i]];
    std::size_t j = i + 1;
    double group = w[order[i]];
    while (j < n && x[order[j]] == value) group += w[order[j++]];
    const double rank = before + (group + 1) / 2;
    for (std::size_t k = i; k < j; ++k) ranks[order[k]] = rank;
    before += group;
    i = j;
  }
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
      const double less = below(r), not_greater = below(r + 1);
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
