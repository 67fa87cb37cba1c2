#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <ostream>

#include "common/error.hpp"
#include "compare/id_split.hpp"
#include "compare/ridge_cv.hpp"
#include "io/h5.hpp"

using namespace lrm;
using namespace lrm::compare;

namespace {
const std::filesystem::path fixtures =
    std::filesystem::path(LRM_SOURCE_DIR) / "tests/fixtures/compare/ridgecv";

Eigen::MatrixXd to_matrix(const h5::Array<double>& a) {
  const Eigen::Index cols = a.shape.size() > 1 ? static_cast<Eigen::Index>(a.shape[1]) : 1;
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      a.data.data(), static_cast<Eigen::Index>(a.shape[0]), cols);
}

struct Case {
  std::vector<float> x;
  Eigen::Index n = 0, p = 0;
  Eigen::MatrixXd y, expected;
  Eigen::VectorXd alpha;
  std::vector<double> alphas;
  Rows train, test;
  Eigen::MatrixXd y_train() const {
    Eigen::MatrixXd out(static_cast<Eigen::Index>(train.size()), y.cols());
    for (std::size_t i = 0; i < train.size(); ++i)
      out.row(static_cast<Eigen::Index>(i)) = y.row(train[i]);
    return out;
  }
};

// A fixture file's case: ridgecv_fixture.h5 (gen_ridgecv.py) or ridgecv_ties.h5
// (gen_ridgecv_ties.py: targets whose two best penalties are closer than single-precision
// rounding). `from_gram`: whether the Gram's kernel form can rank the case's penalties.
struct CaseName {
  const char* file;
  const char* name;
  bool from_gram = true;
};

std::ostream& operator<<(std::ostream& out, const CaseName& c) { return out << c.name; }

Case load(const CaseName& which) {
  h5::File f(fixtures / which.file, h5::File::Mode::read);
  const std::string name = which.name;
  Case c;
  const auto x = h5::read_array<float>(f, "/" + name + "/x");
  c.x = x.data;
  c.n = static_cast<Eigen::Index>(x.shape[0]);
  c.p = static_cast<Eigen::Index>(x.shape[1]);
  c.y = to_matrix(h5::read_array<double>(f, "/" + name + "/y"));
  c.expected = to_matrix(h5::read_array<double>(f, "/" + name + "/prediction"));
  c.alpha = to_matrix(h5::read_array<double>(f, "/" + name + "/alpha"));
  c.alphas = h5::read_array<double>(f, "/" + name + "/alphas").data;
  for (auto v : h5::read_array<std::int64_t>(f, "/" + name + "/train").data) c.train.push_back(v);
  for (auto v : h5::read_array<std::int64_t>(f, "/" + name + "/test").data) c.test.push_back(v);
  return c;
}

double max_error(const Eigen::MatrixXd& got, const Eigen::MatrixXd& want) {
  return (got - want).cwiseAbs().maxCoeff();
}
}  // namespace

class RidgeCvParity : public ::testing::TestWithParam<CaseName> {};

TEST_P(RidgeCvParity, FeaturesMatchSklearnWithin1e6) {
  const Case c = load(GetParam());
  const FeatureMatrix x(c.x.data(), c.n, c.p);
  const LinearFit fit = fit_ridge_cv(x, c.train, c.y_train(), c.alphas);
  EXPECT_EQ(fit.penalty, c.alpha) << GetParam();
  const double err = max_error(fit.predict(x, c.test), c.expected);
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", err);
  RecordProperty("max_abs_error", text);
  EXPECT_LT(err, 1e-6) << GetParam();
}

TEST_P(RidgeCvParity, KernelFormFromAShiftedGramMatchesSklearn) {
  if (!GetParam().from_gram) GTEST_SKIP() << "the Gram's kernel form cannot rank these penalties";
  const Case c = load(GetParam());
  const FeatureMatrix x(c.x.data(), c.n, c.p);
  // Features shifted by their first row, as the streamed Gram's shift: it cancels.
  const Eigen::VectorXd shift = x.row(0).cast<double>().transpose();
  const Eigen::MatrixXd gram_all = gram(x, all_rows(c.n), all_rows(c.n), shift);
  const auto got = ridge_cv_kernel(gram_all, c.train, c.test, c.y_train(), c.alphas);
  EXPECT_EQ(got.penalty, c.alpha) << GetParam();
  EXPECT_LT(max_error(got.prediction, c.expected), 1e-6) << GetParam();
}

TEST_P(RidgeCvParity, BlockedPredictionsMatchSklearn) {
  const Case c = load(GetParam());
  const FeatureMatrix x(c.x.data(), c.n, c.p);
  const auto got = ridge_cv_predict(x, c.train, c.test, c.y_train(), c.alphas);
  EXPECT_EQ(got.penalty, c.alpha) << GetParam();
  EXPECT_LT(max_error(got.prediction, c.expected), 1e-6) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Fixture, RidgeCvParity,
                         ::testing::Values(CaseName{"ridgecv_fixture.h5", "n120_p40_q8"},
                                           CaseName{"ridgecv_fixture.h5", "n60_p300_q6"},
                                           CaseName{"ridgecv_fixture.h5", "n100_p40_q5_dup"}));

// Near ties, where the penalty must be the one sklearn's double ranking picks, in both forms. Not
// from a Gram with fewer units than training stimuli: that kernel is rank-deficient, and the
// rounding of its null eigenvalues (~1e-9 here) moves the errors at the penalty 1e-2 by more than
// these ties' gaps.
INSTANTIATE_TEST_SUITE_P(NearTies, RidgeCvParity,
                         ::testing::Values(CaseName{"ridgecv_ties.h5", "n60_p300_q32_ties"},
                                           CaseName{"ridgecv_ties.h5", "n120_p40_q32_ties",
                                                    false}));

TEST(RidgeCv, TargetBlocksArePowersOfTwoOfAboutFourThousandColumns) {
  EXPECT_EQ(ridge_cv_block(1), 1024);
  EXPECT_EQ(ridge_cv_block(20), 128);
  EXPECT_EQ(ridge_cv_block(64), 64);
  EXPECT_EQ(ridge_cv_block(1000), 64);
}

// A share of the targets in whole blocks (an MPI rank's) gets the bits of all targets solved
// together, in the primal form (p < n), the kernel form from features, and from a Gram.
TEST(RidgeCv, AShareOfWholeTargetBlocksGetsTheBitsOfAllTargets) {
  const std::vector<double> alphas = parse_alphas("1e-2:1e4:64");
  const Eigen::Index block = ridge_cv_block(alphas.size()), q = 3 * block + 7, n = 40;
  const Rows train = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 15, 16, 17, 18,
                      19, 20, 22, 23, 24, 25, 26, 27, 28, 29, 31, 32, 33, 34, 35, 36, 38, 39};
  const Rows test = {14, 21, 30, 37};
  for (const Eigen::Index p : {Eigen::Index{12}, Eigen::Index{70}}) {
    Eigen::MatrixXf features = Eigen::MatrixXf::Random(n, p);
    const std::vector<float> data(features.data(), features.data() + features.size());
    const FeatureMatrix x(data.data(), n, p);
    Eigen::MatrixXd y_train = Eigen::MatrixXd::Random(static_cast<Eigen::Index>(train.size()), q);
    y_train += Eigen::MatrixXd::Random(y_train.rows(), 1).replicate(1, q);
    const Eigen::MatrixXd gram_all = gram(x, all_rows(n), all_rows(n), Eigen::VectorXd::Zero(p));
    const auto all = ridge_cv_predict(x, train, test, y_train, alphas);
    const auto all_kernel = ridge_cv_kernel(gram_all, train, test, y_train, alphas);
    for (const Eigen::Index first : {Eigen::Index{0}, block, 2 * block}) {
      const Eigen::Index m = first == 2 * block ? q - first : block;
      const Eigen::MatrixXd mine = y_train.middleCols(first, m);
      const auto share = ridge_cv_predict(x, train, test, mine, alphas);
      EXPECT_TRUE(share.prediction == all.prediction.middleCols(first, m)) << p << " " << first;
      EXPECT_TRUE(share.penalty == all.penalty.segment(first, m)) << p << " " << first;
      const auto kernel = ridge_cv_kernel(gram_all, train, test, mine, alphas);
      EXPECT_TRUE(kernel.prediction == all_kernel.prediction.middleCols(first, m)) << first;
    }
  }
}

TEST(RidgeCv, AlphasParseAsNumpyLogspaceOrAList) {
  const auto grid = parse_alphas("1e-2:1e6:20");
  ASSERT_EQ(grid.size(), 20u);
  EXPECT_DOUBLE_EQ(grid.front(), 1e-2);
  EXPECT_NEAR(grid.back(), 1e6, 1e-6);
  EXPECT_EQ(parse_alphas("0.5,2"), (std::vector<double>{0.5, 2}));
  EXPECT_EQ(parse_alphas("3:3:1"), (std::vector<double>{3}));
  for (const char* bad : {"0,1", "-1", "1:2", "1:10:2.5", "a", "1:10:0", ""})
    EXPECT_THROW(parse_alphas(bad), SettingError) << bad;
}

TEST(RidgeCv, TooFewTrainingStimuliIsAnInputError) {
  const std::vector<float> data(8, 1.0f);
  const FeatureMatrix x(data.data(), 2, 4);
  EXPECT_THROW(fit_ridge_cv(x, {0, 1}, Eigen::MatrixXd::Zero(2, 1), {1.0}), InputError);
}

TEST(IdSplit, TestIdsAreTheTestSetAndMissingOnesAreNamed) {
  const std::vector<std::string> ids{"a", "b", "c", "d", "e", "f", "g"};
  const Split s = split_by_ids(ids, {"g", "b", "d"}, "shared.txt");
  EXPECT_EQ(s.test, (Rows{1, 3, 6}));
  EXPECT_EQ(s.train, (Rows{0, 2, 4, 5}));
  try {
    split_by_ids(ids, {"a", "zz", "b", "c"}, "shared.txt");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("zz"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("shared.txt"), std::string::npos);
  }
  EXPECT_THROW(split_by_ids(ids, {"a", "b"}, "shared.txt"), InputError);
}
