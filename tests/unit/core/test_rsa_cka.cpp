#include <gtest/gtest.h>

#include <filesystem>
#include <limits>

#include "common/error.hpp"
#include "compare/cka.hpp"
#include "io/h5.hpp"
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

namespace {
Eigen::MatrixXd brain_fixture(const std::string& path) {
  using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  h5::File f(std::filesystem::path(LRM_SOURCE_DIR) / "tests/fixtures/rsa/cka_brain.h5",
             h5::File::Mode::read);
  auto a = h5::read_array<double>(f, path);
  if (a.shape.empty()) return Eigen::MatrixXd::Constant(1, 1, a.data.at(0));
  const auto cols = a.shape.size() == 2 ? static_cast<Eigen::Index>(a.shape[1]) : 1;
  return RowMatrixXd(
      Eigen::Map<RowMatrixXd>(a.data.data(), static_cast<Eigen::Index>(a.shape[0]), cols));
}

io::NeuralResponses responses_of(const Eigen::MatrixXd& mean) {
  io::NeuralResponses r;
  r.source = "brain.nc";
  r.mean = mean;
  for (Eigen::Index i = 0; i < mean.rows(); ++i) r.stimulus_ids.push_back("s" + std::to_string(i));
  for (Eigen::Index j = 0; j < mean.cols(); ++j) r.neuroid_ids.push_back("n" + std::to_string(j));
  return r;
}
}  // namespace

// Model features against brain responses averaged over repetitions, the model's rows taken in the
// brain's order: a numpy reference of the published formulas (tests/fixtures/rsa/gen_cka.py).
TEST(RsaCka, AgainstBrainResponsesEqualsNumpy) {
  const Eigen::MatrixXd model = brain_fixture("/model"), mean = brain_fixture("/brain_mean");
  const Eigen::MatrixXd rows = brain_fixture("/model_rows");
  Eigen::MatrixXd x(rows.rows(), model.cols());
  for (Eigen::Index i = 0; i < rows.rows(); ++i)
    x.row(i) = model.row(static_cast<Eigen::Index>(rows(i, 0)));
  const Eigen::MatrixXd brain_gram = response_gram(responses_of(mean));
  for (auto kernel : {CkaKernel::linear, CkaKernel::rbf})
    for (bool debiased : {false, true}) {
      const CkaOptions o{kernel, debiased, 1.0};
      const std::string tag = cka_kernel_names.name(kernel) + (debiased ? "_debiased" : "_biased");
      EXPECT_NEAR(cka(centred_kernel(x * x.transpose(), o), centred_kernel(brain_gram, o)),
                  brain_fixture("/" + tag)(0, 0), 1e-10)
          << tag;
    }
}

TEST(RsaCka, BrainResponsesWithAMissingStimulusAreRefused) {
  Eigen::MatrixXd mean = Eigen::MatrixXd::Random(6, 3);
  mean(2, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(response_gram(responses_of(mean)), InputError);
}
