#include <gtest/gtest.h>

#include "compare/cka.hpp"
#include "rsa_parity.hpp"

using namespace lrm;
using namespace lrm::compare;

namespace {
Eigen::MatrixXd read(const std::string& path) { return test::parity_matrix(path); }

double cka_of(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y, const CkaOptions& o) {
  return cka(centred_kernel(x * x.transpose(), o), centred_kernel(y * y.transpose(), o));
}
}  // namespace

// Against a numpy reference from the published HSIC formulas (tr(KHLH) and Song et al.'s
// unbiased estimator), which this kernel-centring form must equal exactly.
TEST(RsaCka, EqualsNumpyReference) {
  const Eigen::MatrixXd x = read("/cka/x"), y = read("/cka/y");
  for (auto kernel : {CkaKernel::linear, CkaKernel::rbf})
    for (bool debiased : {false, true}) {
      const std::string tag = cka_kernel_names.name(kernel) + (debiased ? "_debiased" : "_biased");
      EXPECT_NEAR(cka_of(x, y, {kernel, debiased, 1.0}), read("/cka/" + tag)(0, 0), 1e-10) << tag;
    }
  EXPECT_NEAR(cka_of(x, y, {CkaKernel::rbf, false, 0.5}),
              read("/cka/rbf_biased_threshold_0.5")(0, 0), 1e-10);
}

TEST(RsaCka, ShiftOfFeaturesCancelsAndMapIsSymmetric) {
  const Eigen::MatrixXd x = read("/cka/x"), y = read("/cka/y");
  const Eigen::MatrixXd shifted = x.rowwise() + Eigen::RowVectorXd::Constant(x.cols(), 3.0);
  for (auto kernel : {CkaKernel::linear, CkaKernel::rbf}) {
    const CkaOptions o{kernel, true, 1.0};
    EXPECT_NEAR(cka_of(x, y, o), cka_of(shifted, y, o), 1e-12);
  }
  const CkaOptions o;
  const Eigen::MatrixXd map =
      cka_matrix({centred_kernel(x * x.transpose(), o), centred_kernel(y * y.transpose(), o)});
  EXPECT_NEAR(map(0, 0), 1, 1e-15);
  EXPECT_EQ(map(0, 1), map(1, 0));
}
