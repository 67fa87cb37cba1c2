#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "common/error.hpp"
#include "compare/regression.hpp"
#include "io/h5.hpp"

using namespace lrm;
using namespace lrm::compare;

namespace {
const std::filesystem::path fixture =
    std::filesystem::path(LRM_SOURCE_DIR) / "tests/fixtures/compare/pls_fixture.h5";

struct Case {
  std::vector<float> x;
  Eigen::Index n, p;
  Eigen::MatrixXd y, expected;
  Rows train, test;
  int components;
};

Eigen::MatrixXd to_matrix(const h5::Array<double>& a) {
  const Eigen::Index cols = a.shape.size() > 1 ? static_cast<Eigen::Index>(a.shape[1]) : 1;
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      a.data.data(), static_cast<Eigen::Index>(a.shape[0]), cols);
}

Case load(const std::string& name) {
  h5::File f(fixture, h5::File::Mode::read);
  Case c;
  auto x = h5::read_array<float>(f, "/" + name + "/x");
  c.x = x.data;
  c.n = static_cast<Eigen::Index>(x.shape[0]);
  c.p = static_cast<Eigen::Index>(x.shape[1]);
  c.y = to_matrix(h5::read_array<double>(f, "/" + name + "/y"));
  c.expected = to_matrix(h5::read_array<double>(f, "/" + name + "/prediction"));
  for (auto v : h5::read_array<std::int64_t>(f, "/" + name + "/train").data) c.train.push_back(v);
  for (auto v : h5::read_array<std::int64_t>(f, "/" + name + "/test").data) c.test.push_back(v);
  c.components = static_cast<int>(*f.root().group(name).attr_number("n_components"));
  return c;
}

double max_relative_error(const Eigen::MatrixXd& got, const Eigen::MatrixXd& want) {
  return ((got - want).cwiseAbs().array() / want.cwiseAbs().array().max(1e-12)).maxCoeff();
}
}  // namespace

class PlsParity : public ::testing::TestWithParam<const char*> {};

TEST_P(PlsParity, PredictionsMatchSklearnWithin1e6Relative) {
  const Case c = load(GetParam());
  FeatureMatrix x(c.x.data(), c.n, c.p);
  Eigen::MatrixXd y_train(static_cast<Eigen::Index>(c.train.size()), c.y.cols());
  for (std::size_t i = 0; i < c.train.size(); ++i) y_train.row(i) = c.y.row(c.train[i]);
  const auto fit = fit_pls(x, c.train, y_train, {c.components, 500, 1e-6});
  EXPECT_EQ(fit.components_used, c.components);
  const Eigen::MatrixXd got = fit.predict(x, c.test);
  const double err = max_relative_error(got, c.expected);
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", err);
  RecordProperty("max_relative_error", text);
  EXPECT_LT(err, 1e-6) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Fixture, PlsParity,
                         ::testing::Values("n100_p40_q6_k25", "n60_p150_q4_k25", "n80_p30_q1_k10"));

// Four splits fitted together (one pass over X per component for all of them), with a constant
// first target that sklearn zeroes; each split must match sklearn and fit_pls on that split alone.
TEST(PlsCrossValidation, EverySplitMatchesSklearnAndASingleFit) {
  const std::string name = "cv_n120_p70_q5_k12_s4";
  h5::File f(fixture, h5::File::Mode::read);
  const auto xa = h5::read_array<float>(f, "/" + name + "/x");
  const auto n = static_cast<Eigen::Index>(xa.shape[0]), p = static_cast<Eigen::Index>(xa.shape[1]);
  FeatureMatrix x(xa.data.data(), n, p);
  const Eigen::MatrixXd y = to_matrix(h5::read_array<double>(f, "/" + name + "/y"));
  const auto train = h5::read_array<std::int64_t>(f, "/" + name + "/train");
  const auto test = h5::read_array<std::int64_t>(f, "/" + name + "/test");
  const auto expected = h5::read_array<double>(f, "/" + name + "/prediction");
  const int components = static_cast<int>(*f.root().group(name).attr_number("n_components"));
  const std::size_t n_splits = train.shape[0], n_train = train.shape[1], n_test = test.shape[1];
  std::vector<Split> splits(n_splits);
  for (std::size_t s = 0; s < n_splits; ++s) {
    splits[s].train.assign(train.data.begin() + s * n_train,
                           train.data.begin() + (s + 1) * n_train);
    splits[s].test.assign(test.data.begin() + s * n_test, test.data.begin() + (s + 1) * n_test);
  }
  const auto cv = cross_validate_pls(x, all_rows(n), y, splits, {components, 500, 1e-6});
  ASSERT_EQ(cv.prediction.size(), n_splits);
  for (std::size_t s = 0; s < n_splits; ++s) {
    EXPECT_EQ(cv.components_used[s], components);
    Eigen::MatrixXd want(static_cast<Eigen::Index>(n_test), y.cols());
    for (Eigen::Index i = 0; i < want.rows(); ++i)
      for (Eigen::Index j = 0; j < want.cols(); ++j)
        want(i, j) = expected.data[(s * n_test + static_cast<std::size_t>(i)) * y.cols() + j];
    EXPECT_LT(max_relative_error(cv.prediction[s], want), 1e-6) << "split " << s;
    Eigen::MatrixXd y_train(static_cast<Eigen::Index>(n_train), y.cols());
    for (std::size_t i = 0; i < n_train; ++i) y_train.row(i) = y.row(splits[s].train[i]);
    const auto single = fit_pls(x, splits[s].train, y_train, {components, 500, 1e-6});
    EXPECT_LT(max_relative_error(cv.prediction[s], single.predict(x, splits[s].test)), 1e-9)
        << "split " << s;
  }
}

TEST(Regression, RidgeAndOlsRecoverALinearMap) {
  const Eigen::Index n = 120, p = 10;
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> xf =
      Eigen::MatrixXf::Random(n, p);
  FeatureMatrix x(xf.data(), n, p);
  Eigen::MatrixXd beta = Eigen::MatrixXd::Random(p, 3);
  Eigen::MatrixXd y = xf.cast<double>() * beta;
  y.array() += 2.0;
  Rows train, test;
  for (Eigen::Index i = 0; i < n; ++i) (i % 4 ? train : test).push_back(i);
  Eigen::MatrixXd y_train(static_cast<Eigen::Index>(train.size()), 3),
      y_test(static_cast<Eigen::Index>(test.size()), 3);
  for (std::size_t i = 0; i < train.size(); ++i) y_train.row(i) = y.row(train[i]);
  for (std::size_t i = 0; i < test.size(); ++i) y_test.row(i) = y.row(test[i]);
  const auto ols = fit_ols(x, train, y_train);
  EXPECT_LT((ols.predict(x, test) - y_test).cwiseAbs().maxCoeff(), 1e-8);
  const auto ridge = fit_ridge(x, train, y_train);
  EXPECT_EQ(ridge.penalty.size(), 3);
  EXPECT_LT((ridge.predict(x, test) - y_test).cwiseAbs().maxCoeff(), 0.05);
  // Dual form (more features than stimuli) gives the minimum-norm interpolant on training rows.
  const Rows few(train.begin(), train.begin() + 8);
  const auto dual = fit_ols(x, few, y_train.topRows(8));
  EXPECT_LT((dual.predict(x, few) - y_train.topRows(8)).cwiseAbs().maxCoeff(), 1e-8);
}

TEST(Regression, BadInputsAreClearErrors) {
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> zeros =
      Eigen::MatrixXf::Zero(20, 30);
  FeatureMatrix x(zeros.data(), 20, 30);
  const Eigen::MatrixXd y = Eigen::MatrixXd::Random(20, 2);
  EXPECT_THROW(fit_pls(x, all_rows(20), y), InputError);
  EXPECT_THROW(fit_ridge(x, all_rows(20), y), InputError);
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> narrow =
      Eigen::MatrixXf::Random(20, 5);
  EXPECT_THROW(fit_pls(FeatureMatrix(narrow.data(), 20, 5), all_rows(20), y), InputError);
  EXPECT_THROW(parse_regression("lasso"), InputError);
}
