#include <gtest/gtest.h>

#include "common/error.hpp"
#include "compare/weighted.hpp"
#include "io/h5.hpp"
#include "rsa_parity.hpp"

using namespace lrm;
using namespace lrm::compare;

namespace {
std::vector<Eigen::MatrixXd> components() {
  h5::File f(test::rsa_parity, h5::File::Mode::read);
  const auto a = h5::read_array<double>(f, "/weighted/components");
  const auto n = static_cast<Eigen::Index>(a.shape[1]);
  std::vector<Eigen::MatrixXd> out;
  for (std::size_t k = 0; k < a.shape[0]; ++k)
    out.emplace_back(Eigen::Map<const Eigen::MatrixXd>(a.data.data() + k * n * n, n, n));
  return out;  // symmetric, so the storage order does not matter
}
}  // namespace

// Weights of weighted RSA as scipy.optimize.nnls gives them; the variance partition of 3
// predictors as numpy least squares and Net2Brain's formulas give it.
TEST(RsaWeighted, WeightsAndPartitionEqualScipy) {
  const auto c = components();
  const Eigen::MatrixXd target = test::parity_matrix("/weighted/target");
  const auto r = weighted_rsa(c, {target}, {stats::Correlation::pearson, 3, 0});
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
