#include <gtest/gtest.h>

#include "compare/model_share.hpp"
#include "compare/ridge_cv.hpp"

using namespace lrm;
using namespace lrm::compare;

namespace {
PredictivityOptions metric(Regression r, int splits, int penalties = 20) {
  PredictivityOptions m;
  m.regression = r;
  m.splits = splits;
  m.alphas = std::vector<double>(static_cast<std::size_t>(penalties), 1.0);
  return m;
}
}  // namespace

TEST(ModelShare, ModelsThenSplitsThenRidgecvNeuroidsWhereTheyKeepMoreRanksBusy) {
  const auto cv = metric(Regression::ridgecv, 1);
  EXPECT_EQ(choose_model_share(3, cv, 30000, 1), ModelShare::models);
  EXPECT_EQ(choose_model_share(4, cv, 30000, 4), ModelShare::models);
  EXPECT_EQ(choose_model_share(1, cv, 30000, 4), ModelShare::neuroids);
  EXPECT_EQ(choose_model_share(1, metric(Regression::ridgecv, 4), 30000, 4), ModelShare::splits);
  EXPECT_EQ(choose_model_share(1, metric(Regression::ridgecv, 2), 30000, 2), ModelShare::splits);
  // 100 neuroids are one block of 128: the neuroids cannot keep two ranks busy.
  EXPECT_EQ(choose_model_share(1, cv, 100, 4), ModelShare::models);
  EXPECT_EQ(choose_model_share(1, metric(Regression::ridge, 1), 30000, 4), ModelShare::models);
  EXPECT_EQ(choose_model_share(1, metric(Regression::ridge, 5), 30000, 4), ModelShare::splits);
  EXPECT_EQ(choose_model_share(1, metric(Regression::pls, 5), 30000, 4), ModelShare::models);
  auto fixed = metric(Regression::ridgecv, 10);
  fixed.test_ids = {"a"};
  EXPECT_EQ(split_count(fixed), 1u);
  EXPECT_EQ(choose_model_share(1, fixed, 30000, 2), ModelShare::neuroids);
}

TEST(ModelShare, NeuroidSharesAreWholeTargetBlocksCoveringEveryNeuroidOnceInOrder) {
  const auto base = metric(Regression::ridgecv, 1, 64);
  const Eigen::Index block = ridge_cv_block(64);
  for (const Eigen::Index q : {Eigen::Index{1}, block, 5 * block + 3, Eigen::Index{30000}}) {
    for (int ranks : {2, 3, 7}) {
      std::size_t next = 0;
      for (int k = 0; k < ranks; ++k) {
        const auto cols = fitted_neuroids(rank_metric(base, ModelShare::neuroids, k, ranks), q);
        EXPECT_EQ(cols.begin, next) << q << " " << ranks << " " << k;
        EXPECT_TRUE(cols.size() == 0 || cols.begin % static_cast<std::size_t>(block) == 0);
        next = cols.end;
      }
      EXPECT_EQ(next, static_cast<std::size_t>(q)) << q << " " << ranks;
    }
    const auto all = fitted_neuroids(base, q);
    EXPECT_EQ(all.begin, 0u);
    EXPECT_EQ(all.end, static_cast<std::size_t>(q));
  }
}
