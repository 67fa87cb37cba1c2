// The localizer against scipy.stats.ttest_ind + statsmodels multipletests on the committed fixture
// (tests/fixtures/localizer/gen_localizer_fixture.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "io/h5.hpp"
#include "localizer/localizer.hpp"
#include "stats/ttest.hpp"

using namespace lrm;

namespace {

const std::string fixture_dir = std::string(LRM_SOURCE_DIR) + "/tests/fixtures/localizer/";

struct Fixture {
  h5::Array<float> activations;
  std::vector<std::string> category;
  h5::File expected{fixture_dir + "expected.h5", h5::File::Mode::read};
  std::vector<std::string> others = h5::read_strings(expected, "/comparison");
  Fixture() {
    h5::File f(fixture_dir + "activations.h5", h5::File::Mode::read);
    activations = h5::read_array<float>(f, "/activations/conv/pass1");
    category = h5::read_strings(f, "/activations/conv/category");
  }
  std::int64_t n_stimuli() const { return static_cast<std::int64_t>(activations.shape[0]); }
  std::int64_t n_units() const { return static_cast<std::int64_t>(activations.shape[1]); }
  std::vector<double> read(const std::string& path) {
    return h5::read_array<double>(expected, path).data;
  }
};

double worst_relative = 0.0;  // reported, so the achieved agreement is visible in the log

// Relative agreement; NaN and infinities must match exactly.
void expect_close(double actual, double expected, double rel, double abs,
                  const std::string& where) {
  if (expected != 0.0 && std::isfinite(expected))
    worst_relative = std::max(worst_relative, std::fabs(actual - expected) / std::fabs(expected));
  if (std::isnan(expected) || std::isinf(expected)) {
    if (std::isnan(expected))
      EXPECT_TRUE(std::isnan(actual)) << where;
    else
      EXPECT_EQ(actual, expected) << where;
    return;
  }
  EXPECT_NEAR(actual, expected, std::max(abs, rel * std::fabs(expected))) << where;
}

stats::TTestKind kind_of(const std::string& test) {
  return test == "student" ? stats::TTestKind::student : stats::TTestKind::welch;
}

}  // namespace

TEST(LocalizerParity, TAndPMatchScipy) {
  Fixture fx;
  const std::vector<std::string> order{"faces", "bodies", "places", "objects"};
  std::vector<int> group;
  for (const auto& c : fx.category)
    group.push_back(static_cast<int>(std::find(order.begin(), order.end(), c) - order.begin()));
  const auto moments =
      stats::group_moments(fx.activations.data.data(), fx.n_stimuli(), fx.n_units(), group, 4);
  for (const std::string test : {"student", "welch"}) {
    const auto t = fx.read("/" + test + "/t"), p = fx.read("/" + test + "/p");
    for (std::size_t c = 0; c < fx.others.size(); ++c) {
      const int other =
          static_cast<int>(std::find(order.begin(), order.end(), fx.others[c]) - order.begin());
      const auto r = stats::ttest_ind(moments, 0, other, kind_of(test));
      for (std::int64_t u = 0; u < fx.n_units(); ++u) {
        const auto at = c * fx.n_units() + u;
        const std::string where = test + " faces vs " + fx.others[c] + " unit " + std::to_string(u);
        expect_close(r.t[u], t[at], 1e-10, 0.0, where + " t");
        expect_close(r.p[u], p[at], 1e-10, 0.0, where + " p");
      }
    }
  }
  std::printf("worst relative difference of t and p from scipy: %.3g\n", worst_relative);
  worst_relative = 0.0;
}

TEST(LocalizerParity, AdjustedPAndMasksMatchStatsmodels) {
  Fixture fx;
  for (const std::string test : {"student", "welch"}) {
    for (const std::string method : {"by", "bh"}) {
      localizer::Options options;
      options.targets = {"faces"};
      options.test = kind_of(test);
      options.fdr = method == "by" ? stats::FdrMethod::by : stats::FdrMethod::bh;
      const auto result = localizer::localize(fx.activations.data.data(), fx.n_stimuli(),
                                              fx.n_units(), fx.category, options, "fixture");
      ASSERT_EQ(result.targets.size(), 1u);
      const auto& r = result.targets[0];
      // The localizer orders comparisons by category name; the fixture by its own list.
      const auto t = fx.read("/" + test + "/t");
      const auto adjusted = fx.read("/" + test + "/p_adjusted_" + method);
      for (std::size_t c = 0; c < fx.others.size(); ++c) {
        const auto mine =
            std::find(r.others.begin(), r.others.end(), fx.others[c]) - r.others.begin();
        ASSERT_LT(static_cast<std::size_t>(mine), r.others.size());
        for (std::int64_t u = 0; u < fx.n_units(); ++u) {
          const std::int64_t at = static_cast<std::int64_t>(c) * fx.n_units() + u,
                             here = mine * fx.n_units() + u;
          const std::string where =
              test + "/" + method + " vs " + fx.others[c] + " unit " + std::to_string(u);
          expect_close(r.t[here], t[at], 1e-10, 0.0, where + " t");
          expect_close(r.p_adjusted[here], adjusted[at], 1e-12, 1e-300, where + " p_adjusted");
        }
      }
      const auto selective =
          h5::read_array<std::uint8_t>(fx.expected, "/" + test + "/selective_" + method).data;
      EXPECT_EQ(r.selective, selective) << test << "/" << method;
      std::int64_t n = 0;
      for (auto s : selective) n += s;
      EXPECT_EQ(r.n_selective, n);
      EXPECT_GT(n, 50);
      EXPECT_EQ(result.n_units_nonfinite, 5);
      EXPECT_EQ(result.n_nonfinite, 6);
    }
  }
  std::printf("worst relative difference of t and adjusted p from scipy/statsmodels: %.3g\n",
              worst_relative);
  worst_relative = 0.0;
}
