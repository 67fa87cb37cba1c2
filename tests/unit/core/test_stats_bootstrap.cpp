#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "common/error.hpp"
#include "stats/bootstrap.hpp"

using namespace lrm::stats;

TEST(StatsBootstrap, PercentileMatchesNumpyLinear) {
  // numpy.percentile([1, 2, 4, 8], [2.5, 50, 97.5]) = [1.075, 3.0, 7.7]
  const std::vector<double> v{1, 2, 4, 8};
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 2.5), 1.075);
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 50), 3.0);
  EXPECT_DOUBLE_EQ(percentile_sorted(v, 97.5), 7.7);
}

TEST(StatsBootstrap, SeededIntervalIsDeterministicAndCoversTheHitRate) {
  std::vector<double> hits;
  for (int i = 0; i < 200; ++i) hits.push_back(i % 4 != 0);  // hit rate .75
  const auto a = percentile_ci(hits, nullptr, 2000, 7, 0.95);
  const auto b = percentile_ci(hits, nullptr, 2000, 7, 0.95);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  EXPECT_DOUBLE_EQ(a.estimate, 0.75);
  EXPECT_EQ(a.n_resamples, 2000);
  // Binomial standard error √(.75·.25/200) ≈ .031: the interval spans about ±.06.
  EXPECT_NEAR(a.low, 0.69, 0.015);
  EXPECT_NEAR(a.high, 0.81, 0.015);
  const auto c = percentile_ci(hits, nullptr, 2000, 8, 0.95);
  EXPECT_NE(a.low + a.high, c.low + c.high);
}

TEST(StatsBootstrap, PairedItemsResampleTogether) {
  const std::vector<double> x{1, 2, 3, 4, 5, 6}, y{2, 4, 6, 8, 10, 12};
  const auto ci = percentile_ci(
      6,
      [&](const std::vector<std::int64_t>& idx) {
        double sx = 0, sy = 0;
        for (auto i : idx) sx += x[i], sy += y[i];
        return sy / sx;
      },
      1000, 3);
  EXPECT_DOUBLE_EQ(ci.low, 2.0);
  EXPECT_DOUBLE_EQ(ci.high, 2.0);
}

TEST(StatsBootstrap, UniformIndexIsUnbiasedAndBadInputIsRejected) {
  std::uint64_t state = 0;
  auto next = [](void* s) -> std::uint64_t { return (*static_cast<std::uint64_t*>(s))++; };
  EXPECT_EQ(uniform_index(10, next, &state), 0u);
  EXPECT_THROW(percentile_ci(std::vector<double>{}), lrm::InputError);
  EXPECT_THROW(percentile_ci(std::vector<double>{1.0}, nullptr, 0), lrm::InputError);
  EXPECT_THROW(percentile_ci(std::vector<double>{1.0}, nullptr, 10, 0, 1.5), lrm::InputError);
}
