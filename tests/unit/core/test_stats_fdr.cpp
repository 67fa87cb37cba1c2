#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/error.hpp"
#include "stats/fdr.hpp"
#include "stats/ttest.hpp"

using namespace lrm::stats;

namespace {
const std::vector<double> p{.01, .04, .03, .005, .5, .04, .2, 1, 0};

void expect_all_rel(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], 1e-15 * std::fabs(expected[i])) << "at " << i;
}
}  // namespace

TEST(StatsFdr, BenjaminiHochbergMatchesStatsmodels) {
  const auto r = fdr(p, FdrMethod::bh, 0.05);
  expect_all_rel(r.p_adjusted, {0.030000000000000002, 0.060000000000000005, 0.060000000000000005,
                                0.022500000000000003, 0.5625, 0.060000000000000005,
                                0.2571428571428572, 1.0, 0.0});
  EXPECT_EQ(r.rejected, (std::vector<std::uint8_t>{1, 0, 0, 1, 0, 0, 0, 0, 1}));
}

TEST(StatsFdr, BenjaminiYekutieliMatchesStatsmodels) {
  const auto r = fdr(p, FdrMethod::by, 0.05);
  expect_all_rel(r.p_adjusted,
                 {0.08486904761904762, 0.16973809523809524, 0.16973809523809524, 0.0636517857142857,
                  1.0, 0.16973809523809524, 0.7274489795918367, 1.0, 0.0});
  EXPECT_EQ(r.rejected, (std::vector<std::uint8_t>{0, 0, 0, 0, 0, 0, 0, 0, 1}));
}

TEST(StatsFdr, NanCountsInNIsNeverRejectedAndPropagatesLikeStatsmodels) {
  const auto r = fdr({.01, .04, NAN, .03, .005}, FdrMethod::bh, 0.05);
  EXPECT_EQ(r.rejected, (std::vector<std::uint8_t>{1, 1, 0, 1, 1}));
  for (double v : r.p_adjusted) EXPECT_TRUE(std::isnan(v));
}

TEST(StatsFdr, HarmonicNumberIsAccurate) {
  EXPECT_NEAR(harmonic_number(9), 7129.0 / 2520.0, 1e-15);
  EXPECT_NEAR(harmonic_number(1000000), 14.392726722865723631, 1e-13);
  EXPECT_THROW(fdr(p, FdrMethod::bh, 1.5), lrm::InputError);
}

namespace {

// The t-statistic path evaluates fewer p-values but must give statsmodels' numbers: compared with
// the plain path on p = 1 in place of undefined t (statsmodels: 0.05708333333333333 and
// 0.11416666666666667 for p = .01, .04, 1, .03, .005 under BY).
void expect_t_path_equals_plain_path(bool one_df) {
  std::vector<double> t, df;
  for (int u = 0; u < 5000; ++u) {
    t.push_back(std::tan(u * 0.7) * (u % 7 == 0 ? 4.0 : 0.8));
    df.push_back(u % 11 == 0 && !one_df ? 20.0 + u % 5 : 38.0);
  }
  t[17] = NAN;
  t[40] = INFINITY;
  t[41] = -INFINITY;
  t[42] = 0.0;
  t[101] = t[102] = -t[100];  // ties
  std::vector<double> pv(t.size());
  for (size_t u = 0; u < t.size(); ++u) pv[u] = std::isnan(t[u]) ? 1.0 : t_pvalue(t[u], df[u]);
  for (auto method : {FdrMethod::bh, FdrMethod::by}) {
    const auto plain = fdr(pv, method, 0.05);
    const auto fast =
        fdr_of_t(t.data(), df.data(), static_cast<std::int64_t>(t.size()), method, 0.05);
    EXPECT_EQ(plain.rejected, fast.rejected);
    for (size_t u = 0; u < t.size(); ++u) {
      if (std::isnan(t[u])) {
        EXPECT_TRUE(std::isnan(fast.p_adjusted[u]));
        continue;
      }
      EXPECT_EQ(plain.p_adjusted[u], fast.p_adjusted[u]) << "unit " << u;
    }
  }
}

}  // namespace

TEST(StatsFdr, TStatisticPathEqualsPlainPath) {
  expect_t_path_equals_plain_path(false);
  expect_t_path_equals_plain_path(true);  // ranks follow |t|
  const auto by = fdr({.01, .04, 1.0, .03, .005}, FdrMethod::by, 0.05);
  EXPECT_DOUBLE_EQ(by.p_adjusted[0], 0.05708333333333333);
  EXPECT_DOUBLE_EQ(by.p_adjusted[1], 0.11416666666666667);
}

TEST(StatsFdr, MethodNames) {
  EXPECT_EQ(fdr_method_names.parse("bh", "fdr"), FdrMethod::bh);
  EXPECT_EQ(fdr_method_names.name(FdrMethod::by), "by");
  EXPECT_THROW(fdr_method_names.parse("holm", "fdr"), lrm::SettingError);
}
