#include <gtest/gtest.h>

#include "common/error.hpp"
#include "compare/weighted.hpp"
#include "io/h5.hpp"
#include "rsa_parity.hpp"
#include "stats/correlation.hpp"

using namespace lrm;
using namespace lrm::compare;

namespace {
const std::filesystem::path weighted_fixture =
    std::filesystem::path(LRM_SOURCE_DIR) / "tests/fixtures/rsa/weighted.h5";

// A stack of square matrices (k x n x n) of an HDF5 file.
std::vector<Eigen::MatrixXd> stack(const std::filesystem::path& file, const std::string& path) {
  h5::File f(file, h5::File::Mode::read);
  const auto a = h5::read_array<double>(f, path);
  const auto n = static_cast<Eigen::Index>(a.shape[1]);
  std::vector<Eigen::MatrixXd> out;
  for (std::size_t k = 0; k < a.shape[0]; ++k)
    out.emplace_back(Eigen::Map<const Eigen::MatrixXd>(a.data.data() + k * n * n, n, n));
  return out;  // symmetric, so the storage order does not matter
}

std::vector<Eigen::MatrixXd> components() {
  return stack(test::rsa_parity, "/weighted/components");
}

Eigen::VectorXd vector_of(const std::string& path) {
  h5::File f(weighted_fixture, h5::File::Mode::read);
  auto a = h5::read_array<double>(f, path);
  return Eigen::Map<Eigen::VectorXd>(a.data.data(), static_cast<Eigen::Index>(a.data.size()));
}
}  // namespace

// Weights of weighted RSA as scipy.optimize.nnls gives them; the variance partition of 3
// predictors as numpy least squares and Net2Brain's formulas give it.
TEST(RsaWeighted, WeightsAndPartitionEqualScipy) {
  const auto c = components();
  const Eigen::MatrixXd target = test::parity_matrix("/weighted/target");
  WeightedRsaOptions o;
  o.folds = 3;
  o.fit = WeightFit::nnls;
  const auto r = weighted_rsa(c, {target}, o);
  const Eigen::VectorXd want = test::parity_matrix("/weighted/weights").col(0);
  EXPECT_LT((r.weights - want).cwiseAbs().maxCoeff(), 1e-9);
  EXPECT_GT(r.score, 0.5);
  const auto v = partition_variance(c, target, 20, 0);
  const Eigen::VectorXd parts = test::parity_matrix("/weighted/vpa3").col(0);
  EXPECT_LT((v.value - parts).cwiseAbs().maxCoeff(), 1e-9);
  EXPECT_EQ(v.parts.size(), 7u);
  EXPECT_LE(v.low[0], v.value[0]);
  EXPECT_GE(v.high[0], v.value[0]);
}

TEST(RsaWeighted, ComponentsOfOtherStimuliAreRefused) {
  const auto c = components();
  const Eigen::MatrixXd small = Eigen::MatrixXd::Ones(5, 5) - Eigen::MatrixXd::Identity(5, 5);
  EXPECT_THROW(weighted_rsa({c[0], small}, {c[1]}, {}), InputError);
}

// rsatoolbox's ModelWeighted fitted by fit_optimize_positive (BFGS on theta^2, tol 1e-6) and its
// crossval over sets_k_fold(k_rdm=2, k_pattern=3, random=False), on the Kriegeskorte subjects and
// 4 of its model RDMs. Our exact optimum reaches at least BFGS's objective and agrees with it
// within BFGS's tolerance; the closed form (scipy nnls) to 1e-9.
TEST(RsaWeighted, OptimizeEqualsRsatoolboxFitOptimizePositive) {
  const auto comps = stack(weighted_fixture, "/components");
  const auto subjects = stack(weighted_fixture, "/subjects");
  for (auto c : {stats::Correlation::pearson, stats::Correlation::cosine}) {
    const std::string tag = stats::correlation_names.name(c);
    WeightedRsaOptions o;
    o.comparison = c;
    o.folds = 3;
    o.subject_folds = 2;
    o.shuffle = false;
    const auto r = weighted_rsa(comps, subjects, o);
    EXPECT_LT((r.weights - vector_of("/" + tag + "/exact")).cwiseAbs().maxCoeff(), 1e-9) << tag;
    EXPECT_LT((r.weights - vector_of("/" + tag + "/theta")).cwiseAbs().maxCoeff(), 1e-4) << tag;
    const double theirs = vector_of("/" + tag + "/objective")[0];
    EXPECT_GE(r.objective, theirs - 1e-12) << tag;
    EXPECT_LT(r.objective - theirs, 1e-6) << tag;
    const Eigen::VectorXd fold_objective = vector_of("/" + tag + "/crossval_objective");
    ASSERT_EQ(r.fold_objective.size(), 6);
    EXPECT_GE((r.fold_objective - fold_objective).minCoeff(), -1e-12) << tag;
    EXPECT_LT((r.fold_objective - fold_objective).maxCoeff(), 1e-6) << tag;
    EXPECT_LT((r.fold_score - vector_of("/" + tag + "/crossval")).cwiseAbs().maxCoeff(), 1e-5)
        << tag;
  }
}

TEST(RsaWeighted, OptimizeRefusesRankComparisons) {
  const auto comps = stack(weighted_fixture, "/components");
  WeightedRsaOptions o;
  o.comparison = stats::Correlation::spearman;
  EXPECT_THROW(weighted_rsa(comps, {comps[0]}, o), SettingError);
}

TEST(RsaWeighted, FoldGroupsAsRsatoolbox) {
  // sets_k_fold_pattern of 10 patterns in 3 groups: [0 1 2 9] [3 4 5] [6 7 8].
  std::vector<Eigen::Index> order(10);
  for (Eigen::Index i = 0; i < 10; ++i) order[static_cast<std::size_t>(i)] = i;
  const auto g = fold_groups(order, 3);
  EXPECT_EQ(g[0], (std::vector<Eigen::Index>{0, 1, 2, 9}));
  EXPECT_EQ(g[1], (std::vector<Eigen::Index>{3, 4, 5}));
  EXPECT_EQ(g[2], (std::vector<Eigen::Index>{6, 7, 8}));
}

// When every component disagrees with the brain the optimum is a single component (a vertex): the
// one that disagrees least.
TEST(RsaWeighted, OptimizeWithOnlyDisagreeingComponentsPicksTheLeastBad) {
  const auto subjects = stack(weighted_fixture, "/subjects");
  const Eigen::MatrixXd brain = subjects[0];
  const Eigen::MatrixXd noise = stack(weighted_fixture, "/components")[3];
  const Eigen::MatrixXd worse = -brain, milder = -brain + 4 * noise;
  WeightedRsaOptions o;
  o.folds = 3;
  o.subject_folds = 1;
  const auto r = weighted_rsa({worse, milder}, {brain}, o);
  EXPECT_EQ(r.weights, Eigen::Vector2d(0, 1));
  EXPECT_LT(r.objective, 0);
  EXPECT_GT(r.objective, -1);
}
