#pragma once
// Comparisons of RDM vectors whose entries occur with multiplicities (a stimulus resample drawn
// stimulus a c_a times repeats the pair (a, b) c_a c_b times; pairs of the same stimulus are
// dropped, as rsatoolbox's subsample_pattern does). Every statistic equals the one on the
// expanded vectors, without forming them: ranks are average ranks over the multiset, Kendall's
// taus count concordant and discordant pairs of the multiset in O(n log n) (Knight's algorithm
// with a Fenwick tree over the second vector's ranks; copies of one pair tie in both vectors).
#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "stats/correlation.hpp"

namespace lrm::compare {

using PairIndex = std::int32_t;

// A vector with its ascending (stable) argsort and the dense rank of each entry (0-based).
struct SortedVector {
  Eigen::VectorXd values;
  std::vector<PairIndex> order, dense;
  PairIndex levels = 0;  // distinct values
};
SortedVector sort_vector(const Eigen::VectorXd& values);
// The same over the entries `kept` only (the others are left out of order and dense).
void sort_entries(const Eigen::VectorXd& values, const std::vector<PairIndex>& kept,
                  SortedVector& out);

// The ascending order of the entries `kept` only (ties in index order).
void sort_order(const Eigen::VectorXd& values, const std::vector<PairIndex>& kept,
                std::vector<PairIndex>& order);

// Average ranks 1..W over the multiset in which entry k occurs w_k times, written to `ranks` for
// the entries in `order` (the rest are left as they are).
template <typename Index>
void weighted_ranks(const Eigen::VectorXd& x, const std::vector<Index>& order,
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

bool rank_comparison(stats::Correlation c);  // spearman and rho_a compare ranks
bool kendall_comparison(stats::Correlation c);

// Comparison `c` (not a tau) of every column of x with every column of y, both already ranks for
// rank comparisons: an x.cols() x y.cols() matrix. NaN where a column is constant over the pairs
// of nonzero weight.
Eigen::MatrixXd weighted_scores(stats::Correlation c, const Eigen::MatrixXd& x,
                                const Eigen::MatrixXd& y, const Eigen::VectorXd& w);

// The same for one pair of vectors, without temporaries.
double weighted_score(stats::Correlation c, const Eigen::Ref<const Eigen::VectorXd>& x,
                      const Eigen::Ref<const Eigen::VectorXd>& y, const Eigen::VectorXd& w);

// Kendall's tau-a or tau-b of x (walked in `x_order`) and y (given by its dense ranks) over the
// multiset; `tree` is scratch space of y_levels + 1 entries.
double weighted_kendall(stats::Correlation c, const Eigen::VectorXd& x,
                        const std::vector<PairIndex>& x_order,
                        const std::vector<PairIndex>& y_dense, PairIndex y_levels,
                        const Eigen::VectorXd& w, std::vector<double>& tree);

}  // namespace lrm::compare
