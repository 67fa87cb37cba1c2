// Model inference against rsatoolbox itself on fixed resamples
// (tests/fixtures/rsa/gen_inference.py): the bootstrap evaluations, the corrected variances and
// CIs, the t-tests and the FDR to 1e-9.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "compare/inference.hpp"
#include "io/h5.hpp"

using namespace lrm;
using namespace lrm::compare;

namespace {

const std::filesystem::path fixture =
    std::filesystem::path(LRM_SOURCE_DIR) / "tests/fixtures/rsa/inference.h5";

using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A dataset as a matrix of its first dimension by the rest (a scalar as 1 x 1).
Eigen::MatrixXd read(const h5::File& f, const std::string& path) {
  auto a = h5::read_array<double>(f, path);
  const auto rows = static_cast<Eigen::Index>(a.shape.empty() ? 1 : a.shape[0]);
  const auto cols = static_cast<Eigen::Index>(a.data.size()) / rows;
  return RowMatrixXd(Eigen::Map<RowMatrixXd>(a.data.data(), rows, cols));
}

std::vector<Eigen::MatrixXd> read_rdms(const h5::File& f, const std::string& path) {
  auto a = h5::read_array<double>(f, path);
  const auto n = static_cast<Eigen::Index>(a.shape[1]);
  std::vector<Eigen::MatrixXd> out;
  for (std::uint64_t i = 0; i < a.shape[0]; ++i)
    out.push_back(RowMatrixXd(Eigen::Map<RowMatrixXd>(a.data.data() + i * n * n, n, n)));
  return out;
}

std::vector<std::vector<std::int64_t>> read_draws(const h5::File& f, const std::string& path) {
  auto a = h5::read_array<std::int64_t>(f, path);
  std::vector<std::vector<std::int64_t>> out;
  for (std::uint64_t i = 0; i < a.shape[0]; ++i)
    out.emplace_back(a.data.begin() + static_cast<std::ptrdiff_t>(i * a.shape[1]),
                     a.data.begin() + static_cast<std::ptrdiff_t>((i + 1) * a.shape[1]));
  return out;
}

// Equal to 1e-9 where both are finite, NaN in the same places.
void expect_near(const Eigen::MatrixXd& got, const Eigen::MatrixXd& want, const std::string& what) {
  ASSERT_EQ(got.rows(), want.rows()) << what;
  ASSERT_EQ(got.cols(), want.cols()) << what;
  for (Eigen::Index i = 0; i < got.rows(); ++i)
    for (Eigen::Index j = 0; j < got.cols(); ++j) {
      if (std::isnan(want(i, j))) {
        EXPECT_TRUE(std::isnan(got(i, j))) << what << " (" << i << ", " << j << ")";
        continue;
      }
      EXPECT_NEAR(got(i, j), want(i, j), 1e-9) << what << " (" << i << ", " << j << ")";
    }
}

Eigen::MatrixXd scalar(double v) { return Eigen::MatrixXd::Constant(1, 1, v); }

}  // namespace

TEST(RsaInferenceParity, EqualsRsatoolboxOnFixedResamples) {
  h5::File f(fixture, h5::File::Mode::read);
  const auto models = read_rdms(f, "models"), subjects = read_rdms(f, "subjects");
  const auto draw_subjects = read_draws(f, "draws/subjects");
  const auto draw_stimuli = read_draws(f, "draws/stimuli");
  for (const char* comparison :
       {"spearman", "pearson", "cosine", "rho_a", "kendall_tau_a", "kendall_tau_b"})
    for (const char* over : {"stimuli", "subjects", "both"}) {
      SCOPED_TRACE(std::string(comparison) + " over " + over);
      InferenceOptions o;
      o.comparison = stats::parse_correlation(comparison, "comparison");
      o.over = bootstrap_over_names.parse(over, "inference");
      std::vector<Draw> draws(draw_stimuli.size());
      for (std::size_t b = 0; b < draws.size(); ++b) {
        if (o.over != BootstrapOver::stimuli) draws[b].subjects = draw_subjects[b];
        if (o.over != BootstrapOver::subjects) draws[b].stimuli = draw_stimuli[b];
      }
      const Inference r = infer(models, subjects, o, draws);
      const std::string g = std::string(comparison) + "/" + over + "/";
      const std::vector<std::pair<std::string, Eigen::MatrixXd>> arrays = {
          {"samples", r.samples},
          {"evaluation_mean", r.evaluation_mean},
          {"evaluation_sd", r.evaluation_sd},
          {"evaluation_ci_low", r.evaluation_low},
          {"evaluation_ci_high", r.evaluation_high},
          {"p_pairwise", r.p_pairwise},
          {"p_pairwise_fdr", r.p_pairwise_fdr},
          {"p_vs_zero", r.p_vs_zero},
          {"p_vs_lower_ceiling", r.p_vs_lower_ceiling},
          {"difference", r.difference},
          {"difference_ci_low", r.difference_low},
          {"difference_ci_high", r.difference_high},
          {"noise_ceiling_lower_mean", scalar(r.ceiling_lower_mean)},
          {"noise_ceiling_lower_sd", scalar(r.ceiling_lower_sd)},
          {"p_ceiling_vs_chance", scalar(r.p_ceiling_vs_chance)}};
      for (const auto& [name, got] : arrays) expect_near(got, read(f, g + name), name);
      if (o.over == BootstrapOver::both) {
        expect_near(r.samples_subjects, read(f, g + "samples_subjects"), "samples_subjects");
        expect_near(r.samples_stimuli, read(f, g + "samples_stimuli"), "samples_stimuli");
      }
      EXPECT_EQ(r.valid_resamples, static_cast<int>(draws.size()));
    }
}
