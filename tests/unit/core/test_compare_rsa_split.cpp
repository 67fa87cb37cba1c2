// The stimulus bootstrap computed over several models at once and over any range of resamples
// equals the per-model bootstrap resample for resample (what an MPI split relies on).
#include <gtest/gtest.h>

#include <cmath>

#include "compare/rdm.hpp"
#include "compare/rsa.hpp"

using namespace lrm;
using namespace lrm::compare;

namespace {

Eigen::MatrixXd random_rdm(Eigen::Index n, unsigned seed) {
  std::srand(seed);
  const Eigen::MatrixXd x = Eigen::MatrixXd::Random(n, 5);
  Eigen::MatrixXd d(n, n);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = 0; j < n; ++j) d(i, j) = (x.row(i) - x.row(j)).norm();
  return d;
}

bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

}  // namespace

TEST(RsaBootstrapSplit, RangesAndModelsComputedTogetherEqualOneModelAtATime) {
  const std::vector<Eigen::MatrixXd> models = {random_rdm(12, 1), random_rdm(12, 2),
                                               random_rdm(12, 3)};
  const Eigen::MatrixXd brain = random_rdm(12, 4);
  for (auto c : {stats::Correlation::spearman, stats::Correlation::pearson,
                 stats::Correlation::kendall_tau_b}) {
    const auto all = bootstrap_stimuli_values(models, brain, c, 9, 0, 30);
    ASSERT_EQ(all.rows(), 30);
    const auto head = bootstrap_stimuli_values(models, brain, c, 9, 0, 11);
    const auto tail = bootstrap_stimuli_values(models, brain, c, 9, 11, 30);
    for (Eigen::Index m = 0; m < 3; ++m) {
      const auto one =
          bootstrap_stimuli_values({models[static_cast<std::size_t>(m)]}, brain, c, 9, 0, 30);
      for (Eigen::Index b = 0; b < 30; ++b) {
        EXPECT_TRUE(same(all(b, m), one(b, 0)));
        EXPECT_TRUE(same(all(b, m), b < 11 ? head(b, m) : tail(b - 11, m)));
      }
      const auto ci = bootstrap_stimuli(models[static_cast<std::size_t>(m)], brain, c, 30, 9);
      const auto split = summarise_bootstrap(all.col(m));
      EXPECT_EQ(ci.low, split.low);
      EXPECT_EQ(ci.high, split.high);
      EXPECT_EQ(ci.std, split.std);
      EXPECT_EQ(ci.undefined, split.undefined);
    }
  }
}
