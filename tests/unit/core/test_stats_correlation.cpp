#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/error.hpp"
#include "stats/correlation.hpp"

using namespace lrm::stats;

namespace {
// Vectors with ties in both; reference values from scipy.stats and rsatoolbox.
const Eigen::VectorXd x = (Eigen::VectorXd(8) << 1, 2, 2, 3, 5, 4, 4, 6).finished();
const Eigen::VectorXd y = (Eigen::VectorXd(8) << 2, 1, 3, 3, 6, 5, 4, 7).finished();

// O(n^2) pair counting, the textbook definition, to check the merge-sort counts.
double tau_a_naive(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  double s = 0;
  const auto n = a.size();
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) {
      const double d = (a[i] - a[j]) * (b[i] - b[j]);
      s += (d > 0) - (d < 0);
    }
  return s / (n * (n - 1) / 2.0);
}
}  // namespace

TEST(StatsCorrelation, MethodsTestVector) {
  EXPECT_NEAR(spearman(x, y), 0.9394111922831736, 1e-14);
  EXPECT_NEAR(pearson(x, y), 0.9340034466746758, 1e-14);
  EXPECT_NEAR(kendall_tau_a(x, y), 0.8214285714285714, 1e-14);
  EXPECT_NEAR(kendall_tau_b(x, y), 0.8680790595108567, 1e-14);
  EXPECT_NEAR(rho_a(x, y), 0.9226190476190477, 1e-14);
}

TEST(StatsCorrelation, AverageRanksLikeRankdata) {
  const Eigen::VectorXd r = average_ranks(x);
  const Eigen::VectorXd expected =
      (Eigen::VectorXd(8) << 1, 2.5, 2.5, 4, 7, 5.5, 5.5, 8).finished();
  EXPECT_TRUE(r.isApprox(expected));
}

TEST(StatsCorrelation, CosineAndSymmetry) {
  EXPECT_NEAR(cosine(x, y), x.dot(y) / (x.norm() * y.norm()), 1e-15);
  EXPECT_NEAR(kendall_tau_b(x, y), kendall_tau_b(y, x), 1e-15);
  EXPECT_NEAR(pearson(x, -y), -pearson(x, y), 1e-15);
}

TEST(StatsCorrelation, KendallMatchesPairCountingWithTies) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> d(0, 9);
  for (int trial = 0; trial < 20; ++trial) {
    Eigen::VectorXd a(57), b(57);
    for (int i = 0; i < 57; ++i) a[i] = d(rng), b[i] = d(rng) + 0.5 * a[i];
    EXPECT_NEAR(kendall_tau_a(a, b), tau_a_naive(a, b), 1e-12);
  }
}

TEST(StatsCorrelation, UndefinedCasesAreNaN) {
  const Eigen::VectorXd c = Eigen::VectorXd::Constant(8, 3.0);
  EXPECT_TRUE(std::isnan(pearson(x, c)));
  EXPECT_TRUE(std::isnan(spearman(c, y)));
  EXPECT_TRUE(std::isnan(kendall_tau_b(c, y)));
  Eigen::VectorXd with_nan = x;
  with_nan[2] = std::nan("");
  EXPECT_TRUE(std::isnan(spearman(with_nan, y)));
  EXPECT_THROW(pearson(x, y.head(5)), lrm::InputError);
}

TEST(StatsCorrelation, ParseNames) {
  EXPECT_EQ(parse_correlation("tau_a", "comparison"), Correlation::kendall_tau_a);
  EXPECT_THROW(parse_correlation("foo", "comparison"), lrm::InputError);
  EXPECT_STREQ(correlation_name(Correlation::kendall_tau_a), "kendall_tau_a");
  try {
    parse_correlation("foo", "comparison");
  } catch (const lrm::SettingError& e) {
    EXPECT_EQ(e.setting(), "comparison");
    EXPECT_NE(e.problem().find("spearman"), std::string::npos) << e.problem();
  }
  EXPECT_NEAR(correlate(Correlation::rho_a, x, y), 0.9226190476190477, 1e-14);
}

TEST(StatsCorrelation, PearsonColumns) {
  Eigen::MatrixXd a(8, 2), b(8, 2);
  a << x, x;
  b << y, -y;
  const Eigen::VectorXd r = pearson_columns(a, b);
  EXPECT_NEAR(r[0], 0.9340034466746758, 1e-14);
  EXPECT_NEAR(r[1], -0.9340034466746758, 1e-14);
}
