#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "common/error.hpp"
#include "compare/encoding.hpp"
#include "compare/simulate.hpp"

using namespace lrm;
using namespace lrm::compare;

namespace {
using RowMatrixXf = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

RowMatrixXf relu_features(Eigen::Index n, Eigen::Index p, unsigned seed) {
  std::srand(seed);
  const Eigen::MatrixXf latent = Eigen::MatrixXf::Random(n, 12);
  RowMatrixXf x = (latent * Eigen::MatrixXf::Random(12, p) + 0.2f * Eigen::MatrixXf::Random(n, p))
                      .cwiseMax(0.0f);
  return x;
}

io::NeuralResponses as_responses(const SimulatedRecordings& sim,
                                 const std::vector<std::string>& ids) {
  io::NeuralResponses r;
  r.source = "simulated";
  r.stimulus_ids = ids;
  r.presentations = sim.presentations;
  r.stimulus_of = sim.stimulus_of;
  r.mean = Eigen::MatrixXd::Zero(sim.rate.rows(), sim.rate.cols());
  r.counts = Eigen::MatrixXi::Zero(sim.rate.rows(), sim.rate.cols());
  for (std::size_t p = 0; p < sim.stimulus_of.size(); ++p) {
    r.mean.row(sim.stimulus_of[p]) += sim.presentations.row(static_cast<Eigen::Index>(p));
    r.counts.row(sim.stimulus_of[p]).array() += 1;
  }
  r.mean.array() /= r.counts.cast<double>().array();
  for (int j = 0; j < sim.rate.cols(); ++j) r.neuroid_ids.push_back(std::to_string(j));
  return r;
}
}  // namespace

TEST(Splits, StratifiedSeededDisjoint) {
  std::vector<std::string> cats;
  for (int i = 0; i < 100; ++i) cats.push_back(i < 60 ? "face" : "place");
  const auto a = stratified_shuffle_splits(100, cats, 10, 0.1, 5);
  const auto b = stratified_shuffle_splits(100, cats, 10, 0.1, 5);
  ASSERT_EQ(a.size(), 10u);
  for (std::size_t s = 0; s < a.size(); ++s) {
    EXPECT_EQ(a[s].test, b[s].test);
    EXPECT_EQ(a[s].test.size(), 10u);
    int faces = 0;
    for (auto i : a[s].test) faces += i < 60;
    EXPECT_EQ(faces, 6);
    std::set<Eigen::Index> all(a[s].train.begin(), a[s].train.end());
    for (auto i : a[s].test) EXPECT_FALSE(all.count(i));
    EXPECT_EQ(a[s].train.size() + a[s].test.size(), 100u);
  }
  EXPECT_NE(a[0].test, a[1].test);
  EXPECT_THROW(stratified_shuffle_splits(10, {}, 10, 0.1, 0), InputError);
}

TEST(Encoding, CeilingEstimateRecoversTheSimulatedTruth) {
  const RowMatrixXf xf = relu_features(300, 80, 1);
  FeatureMatrix x(xf.data(), xf.rows(), xf.cols());
  SimulationOptions opt;
  opt.neuroids = 60;
  opt.repetitions = 8;
  opt.seed = 11;
  const auto sim = simulate_recordings(x, opt);
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) ids.push_back("s" + std::to_string(i));
  const auto ic = internal_consistency(as_responses(sim, ids), 10, 3);
  EXPECT_GT(sim.true_ceiling, 0.3);
  EXPECT_LT(sim.true_ceiling, 0.99);
  EXPECT_NEAR(ic.ceiling, sim.true_ceiling, 0.05)
      << "estimated " << ic.ceiling << " true " << sim.true_ceiling;
}

TEST(Encoding, BenchmarkScoresModelFeaturesAgainstSimulatedRecordings) {
  const RowMatrixXf xf = relu_features(200, 60, 2);
  FeatureMatrix x(xf.data(), xf.rows(), xf.cols());
  SimulationOptions opt;
  opt.neuroids = 20;
  opt.repetitions = 6;
  opt.mean_rate = 20;
  const auto sim = simulate_recordings(x, opt);
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) ids.push_back("s" + std::to_string(i));
  PredictivityOptions metric;
  metric.pls_components = 10;
  EncodingBenchmark bench(as_responses(sim, ids), metric, 10);
  // Model rows in another order: the join by id must undo it.
  std::vector<std::string> model_ids(ids.rbegin(), ids.rend());
  RowMatrixXf reversed = xf.colwise().reverse();
  const auto result = bench.score(FeatureMatrix(reversed.data(), 200, 60), model_ids, "model");
  EXPECT_GT(result.predictivity.score, 0.5);
  EXPECT_EQ(result.predictivity.r.rows(), 10);
  EXPECT_GT(result.predictivity.error, 0);
  EXPECT_NEAR(result.score.ceiled, result.score.raw / result.score.ceiling, 1e-15);
  EXPECT_NEAR(result.score.explained_variance_ceiled,
              result.score.raw * result.score.raw / result.score.ceiling, 1e-15);
  for (auto r : {Regression::ridge, Regression::ols}) {
    PredictivityOptions m = metric;
    m.regression = r;
    const auto p = neural_predictivity(x, all_rows(200), bench.responses().mean, {}, m);
    EXPECT_GT(p.score, 0.3) << regression_name(r);
  }
  std::vector<std::string> wrong = ids;
  wrong[3] = "zzz";
  EXPECT_THROW(bench.score(x, wrong, "model"), InputError);
}

TEST(Encoding, NaNTargetsAndZeroVarianceNeuroidsAreReported) {
  const RowMatrixXf xf = relu_features(100, 40, 3);
  FeatureMatrix x(xf.data(), 100, 40);
  Eigen::MatrixXd y = Eigen::MatrixXd::Random(100, 3);
  y.col(1).setConstant(2.0);
  PredictivityOptions metric;
  metric.pls_components = 5;
  const auto p = neural_predictivity(x, all_rows(100), y, {}, metric);
  EXPECT_EQ(p.undefined_neuroids, 1);
  EXPECT_TRUE(std::isfinite(p.score));
  y(4, 0) = std::nan("");
  EXPECT_THROW(neural_predictivity(x, all_rows(100), y, {}, metric), InputError);
  metric.pls_components = 50;
  y(4, 0) = 0;
  EXPECT_THROW(neural_predictivity(x, all_rows(100), y, {}, metric), InputError);
}
