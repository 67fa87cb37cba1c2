#include <gtest/gtest.h>

#include "common/error.hpp"
#include "compare/crossnobis.hpp"
#include "io/h5.hpp"
#include "rsa_parity.hpp"

using namespace lrm;
using namespace lrm::compare;

namespace {
Eigen::MatrixXd matrix(const std::string& path) { return test::parity_matrix(path); }

std::vector<Eigen::Index> labels(const std::string& path) {
  h5::File f(test::rsa_parity, h5::File::Mode::read);
  const auto a = h5::read_array<std::int64_t>(f, path);
  return {a.data.begin(), a.data.end()};
}

CrossnobisData data() {
  CrossnobisData d{matrix("/crossnobis/measurements"), labels("/crossnobis/condition"),
                   labels("/crossnobis/run"), 6, 4};
  return d;
}
}  // namespace

// rsatoolbox's calc_rdm_crossnobis with each of its noise precisions, on seeded responses.
TEST(RsaCrossnobis, EqualsRsatoolbox) {
  const auto d = data();
  const Eigen::MatrixXd from_measurements =
      precision_from_measurements(d.measurements, d.condition_of, d.conditions);
  EXPECT_LT(
      (from_measurements - matrix("/crossnobis/precision_measurements")).cwiseAbs().maxCoeff(),
      1e-9);
  EXPECT_LT((rdm_crossnobis(d, from_measurements, "test") - matrix("/crossnobis/rdm_measurements"))
                .cwiseAbs()
                .maxCoeff(),
            1e-9);
  const Eigen::MatrixXd identity = Eigen::MatrixXd::Identity(10, 10);
  EXPECT_LT((rdm_crossnobis(d, identity, "test") - matrix("/crossnobis/rdm_identity"))
                .cwiseAbs()
                .maxCoeff(),
            1e-9);
}

TEST(RsaCrossnobis, ResidualPrecisionEqualsRsatoolbox) {
  const auto d = data();
  Eigen::MatrixXd residuals = d.measurements;
  Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(24, 10);
  Eigen::VectorXd count = Eigen::VectorXd::Zero(24);
  for (Eigen::Index m = 0; m < residuals.rows(); ++m) {
    sum.row(d.condition_of[m] * 4 + d.run_of[m]) += residuals.row(m);
    count[d.condition_of[m] * 4 + d.run_of[m]] += 1;
  }
  for (Eigen::Index m = 0; m < residuals.rows(); ++m) {
    const auto cell = d.condition_of[m] * 4 + d.run_of[m];
    residuals.row(m) -= sum.row(cell) / count[cell];
  }
  const Eigen::MatrixXd p = precision_from_residuals(residuals, 48 - 24);
  EXPECT_LT((p - matrix("/crossnobis/precision_residuals")).cwiseAbs().maxCoeff(), 1e-9);
  EXPECT_LT(
      (rdm_crossnobis(d, p, "test") - matrix("/crossnobis/rdm_residuals")).cwiseAbs().maxCoeff(),
      1e-9);
}

TEST(RsaCrossnobis, NeedsTwoRunsWithEveryCondition) {
  auto d = data();
  d.runs = 1;
  std::fill(d.run_of.begin(), d.run_of.end(), 0);
  EXPECT_THROW(rdm_crossnobis(d, Eigen::MatrixXd::Identity(10, 10), "x"), InputError);
  d = data();
  for (std::size_t m = 0; m < d.run_of.size(); ++m)
    if (d.condition_of[m] == 2 && d.run_of[m] == 1) d.run_of[m] = 0;
  EXPECT_THROW(rdm_crossnobis(d, Eigen::MatrixXd::Identity(10, 10), "x"), InputError);
}
