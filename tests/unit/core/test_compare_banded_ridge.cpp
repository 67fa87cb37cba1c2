#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

#include "common/error.hpp"
#include "compare/banded_ridge.hpp"
#include "io/h5.hpp"

using namespace lrm;
using namespace lrm::compare;

namespace {
const std::filesystem::path fixture =
    std::filesystem::path(LRM_SOURCE_DIR) / "tests/fixtures/encoding/banded/banded_fixture.h5";

template <class T>
Eigen::MatrixXd to_matrix(const h5::Array<T>& a) {
  const Eigen::Index cols = a.shape.size() > 1 ? static_cast<Eigen::Index>(a.shape[1]) : 1;
  return Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
             a.data.data(), static_cast<Eigen::Index>(a.shape[0]), cols)
      .template cast<double>();
}

Rows rows_of(const h5::File& f, const std::string& path) {
  Rows out;
  for (auto v : h5::read_array<std::int64_t>(f, path).data) out.push_back(v);
  return out;
}

Eigen::MatrixXd take(const Eigen::MatrixXd& m, const Rows& rows) {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(rows.size()), m.cols());
  for (std::size_t i = 0; i < rows.size(); ++i)
    out.row(static_cast<Eigen::Index>(i)) = m.row(rows[i]);
  return out;
}

double max_error(const Eigen::MatrixXd& got, const Eigen::MatrixXd& want) {
  return (got - want).cwiseAbs().maxCoeff();
}
}  // namespace

class BandedRidgeParity : public ::testing::TestWithParam<const char*> {};

TEST_P(BandedRidgeParity, MatchesHimalayaBandedRidgeCvWithin1e6) {
  h5::File f(fixture, h5::File::Mode::read);
  const std::string g = std::string("/") + GetParam() + "/";
  std::vector<Eigen::MatrixXd> grams;
  for (int k = 0; h5::exists(f, g + "x" + std::to_string(k)); ++k) {
    // Shifted by the first row, as the streamed Gram's shift: centring cancels it.
    const Eigen::MatrixXd x = to_matrix(h5::read_array<float>(f, g + "x" + std::to_string(k)));
    const Eigen::MatrixXd xs = x.rowwise() - x.row(0);
    grams.push_back(xs * xs.transpose());
  }
  const Rows train = rows_of(f, g + "train"), test = rows_of(f, g + "test");
  BandedRidgeOptions o;
  o.alphas = h5::read_array<double>(f, g + "alphas").data;
  o.ratios = to_matrix(h5::read_array<double>(f, g + "gammas"));
  const Eigen::MatrixXd y = to_matrix(h5::read_array<double>(f, g + "y"));
  const auto got = banded_ridge_kernel(grams, train, test, take(y, train), o);
  const Eigen::MatrixXd penalty =
      (-to_matrix(h5::read_array<double>(f, g + "deltas")).array()).exp();
  const Eigen::MatrixXd alpha = to_matrix(h5::read_array<double>(f, g + "best_alphas"));
  const double err =
      max_error(got.prediction, to_matrix(h5::read_array<double>(f, g + "prediction")));
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", err);
  RecordProperty("max_abs_error", text);
  EXPECT_LT(err, 1e-6) << GetParam();
  EXPECT_LT(max_error(got.cv_score, to_matrix(h5::read_array<double>(f, g + "cv_scores"))), 1e-6)
      << GetParam();
  EXPECT_LT(max_error(got.alpha, alpha), 1e-9 * alpha.maxCoeff()) << GetParam();
  EXPECT_LT(max_error((got.penalty.array() / penalty.array()).log().matrix(),
                      Eigen::MatrixXd::Zero(penalty.rows(), penalty.cols())),
            1e-6)
      << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Fixture, BandedRidgeParity,
                         ::testing::Values("two_groups", "three_groups",
                                           "more_stimuli_than_units"));

TEST(BandedRidge, DirichletRatiosAreSeededPointsOfTheSimplexTheFirstUniform) {
  const Eigen::MatrixXd a = dirichlet_ratios(50, 3, 7);
  EXPECT_TRUE(a.row(0).isApproxToConstant(1.0 / 3));
  EXPECT_LT((a.rowwise().sum().array() - 1).abs().maxCoeff(), 1e-12);
  EXPECT_GT(a.minCoeff(), 0.0);
  EXPECT_EQ(a, dirichlet_ratios(50, 3, 7));
  EXPECT_NE(a, dirichlet_ratios(50, 3, 8));
  // Concentration 0.1 (odd rows) puts most weight on one group; 1 is uniform on the simplex.
  double sparse = 0, flat = 0;
  for (int i = 1; i < 50; ++i) (i % 2 ? flat : sparse) += a.row(i).maxCoeff() / 25;
  EXPECT_GT(sparse, flat);
}

TEST(BandedRidge, RecoversSimulatedGroupPenalties) {
  // Two groups of 40 features, weights of variance v_g, noise of variance 1: the Bayes-optimal
  // penalty of group g is 1 / v_g (per unit of the features' scale), so log10 of the ratio of the
  // two groups' penalties is log10(v_2 / v_1).
  std::mt19937_64 engine(3);
  std::normal_distribution<double> normal;
  const Eigen::Index n = 400, p = 40, q = 12;
  std::vector<Eigen::MatrixXd> x(2, Eigen::MatrixXd(n, p));
  for (auto& m : x) m = m.unaryExpr([&](double) { return normal(engine); });
  Eigen::MatrixXd y(n, q);
  Eigen::VectorXd truth(q);
  for (Eigen::Index t = 0; t < q; ++t) {
    const double log_ratio = -1.5 + 3.0 * static_cast<double>(t) / static_cast<double>(q - 1);
    const double v1 = 0.05 * std::pow(10.0, -log_ratio / 2),
                 v2 = 0.05 * std::pow(10.0, log_ratio / 2);
    truth[t] = log_ratio;
    Eigen::VectorXd b1(p), b2(p), e(n);
    for (auto* v : {&b1, &b2, &e}) *v = v->unaryExpr([&](double) { return normal(engine); });
    y.col(t) = std::sqrt(v1) * x[0] * b1 + std::sqrt(v2) * x[1] * b2 + e;
  }
  Rows train, test;
  for (Eigen::Index i = 0; i < n; ++i) (i % 5 ? train : test).push_back(i);
  BandedRidgeOptions o;
  o.alphas = {1e-2, 1e-1, 1, 10, 1e2, 1e3, 1e4, 1e5};
  o.n_iter = 60;
  o.seed = 1;
  const auto got = banded_ridge_kernel({x[0] * x[0].transpose(), x[1] * x[1].transpose()}, train,
                                       test, take(y, train), o);
  Eigen::VectorXd recovered(q);
  for (Eigen::Index t = 0; t < q; ++t)
    recovered[t] = std::log10(got.penalty(0, t) / got.penalty(1, t));
  std::vector<double> error;
  for (Eigen::Index t = 0; t < q; ++t) error.push_back(std::abs(recovered[t] - truth[t]));
  std::sort(error.begin(), error.end());
  const double median = (error[q / 2 - 1] + error[q / 2]) / 2;
  const Eigen::VectorXd rc = recovered.array() - recovered.mean(),
                        tc = truth.array() - truth.mean();
  const double r = rc.dot(tc) / (rc.norm() * tc.norm());
  char text[64];
  std::snprintf(text, sizeof text, "%.3g", median);
  RecordProperty("median_abs_log10_ratio_error", text);
  std::snprintf(text, sizeof text, "%.3g", r);
  RecordProperty("log_ratio_r", text);
  std::string pairs;
  for (Eigen::Index t = 0; t < q; ++t) {
    std::snprintf(text, sizeof text, "%.2f:%.2f ", truth[t], recovered[t]);
    pairs += text;
  }
  RecordProperty("truth_recovered", pairs);
  EXPECT_LT(median, 0.5);
  EXPECT_GT(r, 0.8);
}

TEST(BandedRidge, BadSettingsAreSettingErrors) {
  const std::vector<Eigen::MatrixXd> grams(2, Eigen::MatrixXd::Identity(20, 20));
  Rows train;
  for (Eigen::Index i = 0; i < 16; ++i) train.push_back(i);
  BandedRidgeOptions o;
  o.alphas = {1.0};
  o.n_iter = 0;
  EXPECT_THROW(banded_ridge_kernel(grams, train, {16, 17}, Eigen::MatrixXd::Zero(16, 1), o),
               SettingError);
  o.n_iter = 3;
  o.folds = 9;
  EXPECT_THROW(banded_ridge_kernel(grams, train, {16, 17}, Eigen::MatrixXd::Zero(16, 1), o),
               InputError);
}

TEST(BandedRidge, TargetsAreIndependentAcrossTheBlocksOfTargets) {
  std::mt19937_64 engine(9);
  std::normal_distribution<double> normal;
  const Eigen::Index n = 40, q = 1100;
  const auto random = [&](Eigen::Index r, Eigen::Index c) {
    return Eigen::MatrixXd(r, c).unaryExpr([&](double) { return normal(engine); }).eval();
  };
  const Eigen::MatrixXd x1 = random(n, 6), x2 = random(n, 9), y = random(n, q);
  Rows train, test;
  for (Eigen::Index i = 0; i < n; ++i) (i % 4 ? train : test).push_back(i);
  BandedRidgeOptions o;
  o.alphas = {0.1, 1, 10};
  o.n_iter = 4;
  const std::vector<Eigen::MatrixXd> grams{x1 * x1.transpose(), x2 * x2.transpose()};
  const auto all = banded_ridge_kernel(grams, train, test, take(y, train), o);
  const auto tail = banded_ridge_kernel(grams, train, test, take(y, train).rightCols(76), o);
  EXPECT_LT(max_error(all.prediction.rightCols(76), tail.prediction), 1e-12);
  EXPECT_EQ(all.penalty.rightCols(76), tail.penalty);
}
