#pragma once
// Correlations and rank statistics as the reference tools compute them (scipy.stats, rsatoolbox):
// Pearson, Spearman (average ranks for ties), Kendall tau-a and tau-b, rho-a, cosine.
// A correlation with a constant input is undefined and returned as NaN; callers report it.
#include <Eigen/Dense>
#include <string>
#include <vector>

#include "common/names.hpp"

namespace lrm::stats {

using VectorRef = Eigen::Ref<const Eigen::VectorXd>;

// Ranks 1..n, ties given the average of the ranks they span (scipy.stats.rankdata "average").
Eigen::VectorXd average_ranks(const VectorRef& x);

double pearson(const VectorRef& x, const VectorRef& y);
double spearman(const VectorRef& x, const VectorRef& y);
// tau-a = (concordant - discordant) / (n(n-1)/2); tau-b corrects for ties (scipy's kendalltau).
// Both count pairs in O(n log n) (Knight's merge sort), so long RDM vectors are cheap.
double kendall_tau_a(const VectorRef& x, const VectorRef& y);
double kendall_tau_b(const VectorRef& x, const VectorRef& y);
// rho-a = 12 * sum((rank_x - mean)(rank_y - mean)) / (n^3 - n) (rsatoolbox).
double rho_a(const VectorRef& x, const VectorRef& y);
double cosine(const VectorRef& x, const VectorRef& y);

enum class Correlation { pearson, spearman, kendall_tau_a, kendall_tau_b, rho_a, cosine };
inline const Names<Correlation> correlation_names{{"pearson", Correlation::pearson},
                                                  {"spearman", Correlation::spearman},
                                                  {"kendall_tau_a", Correlation::kendall_tau_a},
                                                  {"tau_a", Correlation::kendall_tau_a, true},
                                                  {"kendall_tau_b", Correlation::kendall_tau_b},
                                                  {"tau_b", Correlation::kendall_tau_b, true},
                                                  {"rho_a", Correlation::rho_a},
                                                  {"cosine", Correlation::cosine}};
// The comparison named `name`; an unknown one is a SettingError of `setting`.
inline Correlation parse_correlation(const std::string& name, const std::string& setting) {
  return correlation_names.parse(name, setting);
}
inline const char* correlation_name(Correlation c) { return correlation_names.name(c).c_str(); }
double correlate(Correlation c, const VectorRef& x, const VectorRef& y);

// Pearson r between matching columns of a and b (n rows each), vectorised over columns and
// threaded; a column with zero variance in either input gives NaN.
Eigen::VectorXd pearson_columns(const Eigen::Ref<const Eigen::MatrixXd>& a,
                                const Eigen::Ref<const Eigen::MatrixXd>& b);

inline Eigen::Map<const Eigen::VectorXd> as_vector(const std::vector<double>& v) {
  return {v.data(), static_cast<Eigen::Index>(v.size())};
}

}  // namespace lrm::stats
