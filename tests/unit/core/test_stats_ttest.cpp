#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

#include "common/error.hpp"
#include "io/h5.hpp"
#include "stats/ttest.hpp"

using namespace lrm::stats;

namespace {
void expect_rel(double actual, double expected, double tol = 1e-12) {
  EXPECT_NEAR(actual, expected, tol * std::fabs(expected)) << "expected " << expected;
}
const std::vector<double> a{3.1, 2.7, 4.4, 5.0, 3.9, 4.2}, b{2.0, 2.9, 3.1, 1.7, 2.2};
}  // namespace

TEST(StatsTTest, StudentMatchesScipy) {
  const auto r = ttest_ind(a, b, TTestKind::student);
  expect_rel(r.t, 3.3122490053635074);
  expect_rel(r.p, 0.009051409543354016);
  EXPECT_EQ(r.df, 9.0);
}

TEST(StatsTTest, WelchMatchesScipy) {
  const auto r = ttest_ind(a, b, TTestKind::welch);
  expect_rel(r.t, 3.427799915120745);
  expect_rel(r.p, 0.007777696013981637);
}

TEST(StatsTTest, ConstantUnitIsUndefinedAndZeroVarianceDifferenceIsInfinite) {
  for (auto kind : {TTestKind::student, TTestKind::welch}) {
    const auto same = ttest_ind({1, 1, 1}, {1, 1, 1}, kind);
    EXPECT_TRUE(std::isnan(same.t));
    EXPECT_TRUE(std::isnan(same.p));
    const auto apart = ttest_ind({1, 1, 1}, {2, 2, 2}, kind);
    EXPECT_EQ(apart.t, -INFINITY);
    EXPECT_EQ(apart.p, 0.0);
  }
  // One group constant: scipy gives t = 0.6546536707079772 (Student), 0.7745966692414834 (Welch).
  expect_rel(ttest_ind({1, 2, 3, 4}, {2, 2, 2}, TTestKind::student).p, 0.5416045607931204);
  expect_rel(ttest_ind({1, 2, 3, 4}, {2, 2, 2}, TTestKind::welch).p, 0.495025346059711);
}

TEST(StatsTTest, NonFiniteValuesAreLeftOutAndCounted) {
  std::vector<double> a_nan = a;
  a_nan.push_back(NAN);
  std::vector<double> b_inf = b;
  b_inf.push_back(INFINITY);
  const auto r = ttest_ind(a_nan, b_inf, TTestKind::student);
  expect_rel(r.t, 3.3122490053635074);

  // The same data as a two-unit matrix: unit 1 holds the non-finite values.
  std::vector<float> m;
  std::vector<int> group;
  for (size_t i = 0; i < a_nan.size(); ++i)
    m.insert(m.end(), {float(i), float(a_nan[i])}), group.push_back(0);
  for (size_t i = 0; i < b_inf.size(); ++i)
    m.insert(m.end(), {float(i), float(b_inf[i])}), group.push_back(1);
  const auto moments =
      group_moments(m.data(), static_cast<std::int64_t>(group.size()), 2, group, 2);
  EXPECT_EQ(moments.nonfinite, (lrm::HugePageVector<std::int64_t>{0, 2}));
  EXPECT_EQ(moments.count[moments.at(0, 1)], 6);
  EXPECT_EQ(moments.count[moments.at(1, 1)], 5);
}

TEST(StatsTTest, MatrixOfUnitsEqualsOneTestPerUnit) {
  // 3 groups × 4 rows, 3 units; rows of group −1 are left out.
  const std::vector<int> group{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, -1};
  std::vector<double> m;
  for (size_t r = 0; r < group.size(); ++r)
    for (int u = 0; u < 3; ++u) m.push_back(std::sin(1.0 + r * 3 + u) * (group[r] + 1) + u);
  const auto moments = group_moments(m.data(), 13, 3, group, 3);
  const auto all = ttest_ind(moments, 0, 2, TTestKind::welch);
  for (int u = 0; u < 3; ++u) {
    std::vector<double> x, y;
    for (size_t r = 0; r < group.size(); ++r) {
      if (group[r] == 0) x.push_back(m[r * 3 + u]);
      if (group[r] == 2) y.push_back(m[r * 3 + u]);
    }
    const auto one = ttest_ind(x, y, TTestKind::welch);
    EXPECT_DOUBLE_EQ(all.t[u], one.t);
    EXPECT_DOUBLE_EQ(all.p[u], one.p);
  }
}

TEST(StatsTTest, TooFewValuesGiveUndefinedT) {
  EXPECT_TRUE(std::isnan(ttest_ind({1.0}, {2.0, 3.0}, TTestKind::student).t));
  EXPECT_TRUE(std::isnan(t_pvalue(NAN, 10)));
  EXPECT_EQ(t_pvalue(0.0, 10), 1.0);
}

TEST(StatsTTest, BatchesMergeToTheMomentsOfTheWholeMatrix) {
  const std::int64_t rows = 37, units = 700;  // more than one block of units
  std::vector<float> m(rows * units);
  std::vector<int> group(rows);
  for (std::int64_t r = 0; r < rows; ++r) {
    group[r] = r % 4 == 3 ? -1 : static_cast<int>(r % 3);
    for (std::int64_t u = 0; u < units; ++u)
      m[r * units + u] = static_cast<float>(1000.0 + std::sin(0.37 * r + 0.11 * u) * (u % 5));
  }
  m[5 * units + 9] = NAN;
  m[7 * units + 20] = INFINITY;
  const auto whole = group_moments(m.data(), rows, units, group, 3);
  MomentAccumulator batches(units, 3);
  for (std::int64_t first = 0; first < rows; first += 5)
    batches.add(m.data() + first * units, std::min<std::int64_t>(5, rows - first),
                group.data() + first);
  // The same batches read through two alternating buffers.
  MomentAccumulator streamed(units, 3);
  std::vector<float> buffer0(5 * units), buffer1(5 * units);
  streamed.add_streamed(rows, 5, group.data(), buffer0.data(), buffer1.data(),
                        [&](std::int64_t first, std::int64_t count, float* out) {
                          std::copy_n(m.data() + first * units, count * units, out);
                        });
  // Read in pieces of 2 rows that the threads share while they sum the previous batch.
  MomentAccumulator pieces(units, 3);
  pieces.add_streamed(
      rows, 5, group.data(), buffer0.data(), buffer1.data(),
      [&](std::int64_t first, std::int64_t count, float* out) {
        std::copy_n(m.data() + first * units, count * units, out);
      },
      2);
  for (const auto* merged : {&batches.moments(), &streamed.moments(), &pieces.moments()}) {
    EXPECT_EQ(merged->count, whole.count);
    EXPECT_EQ(merged->nonfinite, whole.nonfinite);
    for (std::size_t i = 0; i < whole.mean.size(); ++i) {
      EXPECT_NEAR(merged->mean[i], whole.mean[i], 1e-13 * std::fabs(whole.mean[i]));
      EXPECT_NEAR(merged->sum_sq_dev[i], whole.sum_sq_dev[i], 1e-11 * whole.sum_sq_dev[i] + 1e-300);
    }
  }
  EXPECT_EQ(batches.moments().mean, streamed.moments().mean);
  EXPECT_EQ(batches.moments().mean, pieces.moments().mean);
}

TEST(StatsTTest, GroupsWithoutValuesHaveUndefinedMoments) {
  // Unit 1 has no finite value in group 1; group 2 has no rows in the first batch.
  const std::vector<float> m{1, 2, 3, NAN, 5, 6, 7, NAN, 9, 10, 11, 12};
  const std::vector<int> group{0, 1, 0, 1, 2, 2};
  MomentAccumulator batches(2, 3);
  batches.add(m.data(), 4, group.data());
  const auto first = batches.moments();
  EXPECT_TRUE(std::isnan(first.mean[first.at(1, 1)]));
  EXPECT_TRUE(std::isnan(first.mean[first.at(2, 0)]));
  EXPECT_TRUE(std::isnan(first.sum_sq_dev[first.at(2, 0)]));
  batches.add(m.data() + 8, 2, group.data() + 4);  // handed out, then accumulating again
  const auto merged = batches.take();
  EXPECT_EQ(merged.count, (lrm::HugePageVector<std::int32_t>{2, 2, 2, 0, 2, 2}));
  EXPECT_TRUE(std::isnan(merged.mean[merged.at(1, 1)]));
  EXPECT_DOUBLE_EQ(merged.mean[merged.at(1, 0)], 5.0);
  EXPECT_DOUBLE_EQ(merged.mean[merged.at(2, 0)], 10.0);
  EXPECT_DOUBLE_EQ(merged.sum_sq_dev[merged.at(2, 1)], 2.0);
  EXPECT_DOUBLE_EQ(merged.mean[merged.at(0, 1)], 4.0);
  EXPECT_DOUBLE_EQ(merged.sum_sq_dev[merged.at(0, 1)], 8.0);
}

TEST(StatsTTest, StreamedBatchesPassOnReadErrors) {
  const std::int64_t rows = 12, units = 3;
  std::vector<int> group(rows, 0);
  std::vector<float> buffer0(4 * units), buffer1(4 * units);
  MomentAccumulator accumulator(units, 1);
  EXPECT_THROW(accumulator.add_streamed(rows, 4, group.data(), buffer0.data(), buffer1.data(),
                                        [](std::int64_t first, std::int64_t, float*) {
                                          if (first == 8) throw lrm::InputError("truncated");
                                        }),
               lrm::InputError);
}

namespace {
// Equal as scipy gives them: both NaN, the same infinity, or within 1e-12 relative.
void expect_scipy(double actual, double expected, const std::string& what) {
  if (std::isnan(expected))
    EXPECT_TRUE(std::isnan(actual)) << what << ": " << actual;
  else if (std::isinf(expected))
    EXPECT_EQ(actual, expected) << what;
  else
    EXPECT_NEAR(actual, expected, 1e-12 * std::max(1.0, std::fabs(expected))) << what;
}
}  // namespace

TEST(StatsTTest, PairedMatchesScipyTtestRel) {
  // tests/fixtures/stats/gen_ttest_rel.py: scipy.stats.ttest_rel for every alternative and NaN
  // policy, edge cases included.
  lrm::h5::File f(std::filesystem::path(LRM_SOURCE_DIR) / "tests/fixtures/stats/ttest_rel.h5",
                  lrm::h5::File::Mode::read);
  const auto cases = f.root().children();
  ASSERT_EQ(cases.size(), 24u);
  for (const auto& name : cases) {
    const auto g = f.root().group(name);
    const auto a = lrm::h5::read_array<double>(f, name + "/a").data;
    const auto b = lrm::h5::read_array<double>(f, name + "/b").data;
    const auto alt = *g.attr_string("alternative");
    const auto alternative = alt == "less"      ? Alternative::less
                             : alt == "greater" ? Alternative::greater
                                                : Alternative::two_sided;
    const auto policy =
        *g.attr_string("nan_policy") == "omit" ? NanPolicy::omit : NanPolicy::propagate;
    const auto r = ttest_rel(a, b, alternative, policy);
    expect_scipy(r.t, *g.attr_number("t"), name + " t");
    expect_scipy(r.p, *g.attr_number("p"), name + " p");
    EXPECT_EQ(r.df, *g.attr_number("df")) << name;
  }
}

TEST(StatsTTest, PairedSamplesOfDifferentLengthsAreAFault) {
  EXPECT_THROW(ttest_rel({1, 2, 3}, {1, 2}), lrm::InternalError);
}
