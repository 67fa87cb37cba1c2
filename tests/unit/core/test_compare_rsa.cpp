#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.hpp"
#include "compare/rdm.hpp"
#include "compare/rsa.hpp"
#include "io/h5.hpp"
#include "io/mat.hpp"

using namespace lrm;
using namespace lrm::compare;

namespace {
const std::filesystem::path source(LRM_SOURCE_DIR);
const auto fixture = source / "tests/fixtures/compare/rsa_fixture.h5";

const auto parity = source / "tests/fixtures/compare/rsa_parity/rsa_parity.h5";

double value(const std::string& path, const std::filesystem::path& file = fixture) {
  h5::File f(file, h5::File::Mode::read);
  return h5::read_array<double>(f, path).data.at(0);
}

Eigen::MatrixXd square(const std::vector<double>& v, std::uint64_t n) {
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      v.data(), static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
}

// The 4 subjects' human IT RDMs, sessions averaged, and the monkey IT RDM.
std::vector<Eigen::MatrixXd> subjects() {
  const auto r = io::read_mat_rdms(source / "neural_data/kriegeskorte2008/92_brainRDMs.mat");
  std::vector<Eigen::MatrixXd> s;
  for (int i = 0; i < 4; ++i) s.push_back((square(r.rdms[i], 92) + square(r.rdms[i + 4], 92)) / 2);
  return s;
}
Eigen::MatrixXd monkey() {
  const auto r = io::read_mat_rdms(
      source / "neural_data/kriegeskorte2008/Kriegeskorte_Neuron2008_supplementalData.mat",
      "RDMs_mIT_hIT_fig1");
  return square(r.rdms[0], 92);
}
}  // namespace

TEST(RsaParity, RealRdmComparisonsMatchScipy) {
  const auto s = subjects();
  const auto m = monkey();
  for (int i = 0; i < 4; ++i)
    for (const char* name :
         {"spearman", "pearson", "kendall_tau_a", "kendall_tau_b", "rho_a", "cosine"}) {
      const double want = value("/subject" + std::to_string(i) + "_vs_monkey/" + name);
      EXPECT_NEAR(compare_rdms(s[i], m, stats::parse_correlation(name, "test")), want, 1e-12)
          << "subject " << i << " " << name;
    }
}

TEST(RsaParity, NoiseCeilingOfFourSubjectsMatchesNumpy) {
  const auto s = subjects();
  for (const char* name : {"spearman", "pearson", "kendall_tau_a"}) {
    const auto nc =
        noise_ceiling(s, stats::parse_correlation(name, "test"), false, CeilingPool::mean);
    EXPECT_NEAR(nc.upper, value(std::string("/noise_ceiling/") + name + "/upper"), 1e-12) << name;
    EXPECT_NEAR(nc.lower, value(std::string("/noise_ceiling/") + name + "/lower"), 1e-12) << name;
    EXPECT_GT(nc.upper, nc.lower);
  }
  const auto sq = noise_ceiling(s, stats::Correlation::spearman, true, CeilingPool::mean);
  const auto plain = noise_ceiling(s, stats::Correlation::spearman, false, CeilingPool::mean);
  EXPECT_NEAR(sq.upper, plain.upper_per_subject.array().square().mean(), 1e-15);
  EXPECT_NEAR(sq.lower, plain.lower_per_subject.array().square().mean(), 1e-15);
}

TEST(RsaCeiling, PooledCeilingsEqualRsatoolboxBootNoiseCeiling) {
  const auto s = subjects();
  for (const char* name :
       {"spearman", "pearson", "cosine", "rho_a", "kendall_tau_a", "kendall_tau_b"}) {
    const auto nc =
        noise_ceiling(s, stats::parse_correlation(name, "test"), false, CeilingPool::pooled);
    EXPECT_NEAR(nc.lower, value(std::string("/ceiling/") + name + "/lower", parity), 1e-9) << name;
    EXPECT_NEAR(nc.upper, value(std::string("/ceiling/") + name + "/upper", parity), 1e-9) << name;
  }
}

TEST(RsaCeiling, PoolTransformsAsPoolRdm) {
  const Eigen::VectorXd v = (Eigen::VectorXd(4) << 2, 4, 4, 10).finished();
  EXPECT_EQ(pool_transform(v, stats::Correlation::spearman),
            (Eigen::VectorXd(4) << 1, 2.5, 2.5, 4).finished());
  const Eigen::VectorXd z = pool_transform(v, stats::Correlation::pearson);
  EXPECT_NEAR(z.mean(), 0, 1e-15);
  EXPECT_NEAR(z.squaredNorm() / 4, 1, 1e-15);
  EXPECT_NEAR(pool_transform(v, stats::Correlation::cosine).squaredNorm() / 4, 1, 1e-15);
  EXPECT_TRUE(pool_transform(Eigen::VectorXd::Ones(4), stats::Correlation::pearson).hasNaN());
}

TEST(Rdm, CorrelationAndEuclideanMatchNumpy) {
  h5::File f(fixture, h5::File::Mode::read);
  auto x = h5::read_array<float>(f, "/features");
  const auto n = static_cast<Eigen::Index>(x.shape[0]), p = static_cast<Eigen::Index>(x.shape[1]);
  RowMatrixXf features = Eigen::Map<RowMatrixXf>(x.data.data(), n, p);
  const auto want_corr = h5::read_array<double>(f, "/rdm_correlation");
  const auto want_euc = h5::read_array<double>(f, "/rdm_euclidean");
  const Eigen::MatrixXd euc = rdm_euclidean(features);
  EXPECT_LT((euc - square(want_euc.data, n)).cwiseAbs().maxCoeff(), 1e-12);
  const Eigen::MatrixXd corr = rdm_correlation(features, "test");
  // Single-precision Gram: within 1e-6 of numpy's float64 corrcoef.
  Eigen::MatrixXd want = square(want_corr.data, n);
  want.diagonal().setZero();
  EXPECT_LT((corr - want).cwiseAbs().maxCoeff(), 1e-6);
}

TEST(Rdm, CrossValidatedDistanceIsUnbiased) {
  // Equal true patterns plus independent noise: cross-validated distances average ~0, while
  // the plain Euclidean distance of the means is biased upwards.
  Eigen::MatrixXd pattern = Eigen::MatrixXd::Random(5, 400);
  pattern.row(1) = pattern.row(0);
  std::vector<Eigen::MatrixXd> reps;
  for (int k = 0; k < 4; ++k) reps.push_back(pattern + 0.5 * Eigen::MatrixXd::Random(5, 400));
  const Eigen::MatrixXd d = rdm_crossvalidated(reps);
  EXPECT_LT(std::abs(d(0, 1)), 0.01);
  EXPECT_GT(d(0, 2), 0.5);
  EXPECT_THROW(rdm_crossvalidated({reps[0]}), InputError);
}

TEST(Rdm, BadInputs) {
  RowMatrixXf constant = RowMatrixXf::Ones(4, 10);
  EXPECT_THROW(rdm_correlation(constant, "layer conv1"), InputError);
  RowMatrixXf two = RowMatrixXf::Random(2, 10);
  EXPECT_THROW(rdm_correlation(two, "layer conv1"), InputError);
  EXPECT_THROW(compare_rdms(Eigen::MatrixXd::Ones(4, 4), Eigen::MatrixXd::Ones(5, 5),
                            stats::Correlation::spearman),
               InputError);
  EXPECT_THROW(square_rdm(Eigen::VectorXd::Ones(4)), InputError);
  const Eigen::MatrixXd m = Eigen::MatrixXd::Random(6, 6);
  const Eigen::MatrixXd sym = (m + m.transpose()).cwiseAbs();
  Eigen::MatrixXd r = sym;
  r.diagonal().setZero();
  EXPECT_TRUE(square_rdm(upper_triangle(r)).isApprox(r));
}

TEST(RsaBootstrap, SeededAndSensible) {
  const auto s = subjects();
  const auto m = monkey();
  const Eigen::MatrixXd brain = mean_rdm(s);
  const auto a = bootstrap_stimuli(m, brain, stats::Correlation::spearman, 200, 7);
  const auto b = bootstrap_stimuli(m, brain, stats::Correlation::spearman, 200, 7);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  const double r = compare_rdms(m, brain, stats::Correlation::spearman);
  EXPECT_LT(a.low, r);
  EXPECT_GT(a.high, r);
  Eigen::VectorXd per(4);
  for (int i = 0; i < 4; ++i) per[i] = compare_rdms(m, s[i], stats::Correlation::spearman);
  const auto subj = bootstrap_subjects(per, 1000, 3);
  EXPECT_LE(subj.low, per.mean());
  EXPECT_GE(subj.high, per.mean());
  EXPECT_GE(subj.low, per.minCoeff());
}

TEST(RsaScore, ScoresAModelRdmWithoutFiles) {
  const auto brain = subjects();
  const Eigen::MatrixXd mean = mean_rdm(brain);
  const Eigen::MatrixXd model = monkey();
  RdmScoring scoring;
  scoring.squared = true;
  scoring.bootstrap = 20;
  scoring.seed = 7;
  const auto s = score_rdm(model, brain, mean, scoring, "monkey IT");
  ASSERT_EQ(s.r.size(), 4);
  for (int i = 0; i < 4; ++i)
    EXPECT_DOUBLE_EQ(s.r[i], compare_rdms(model, brain[i], stats::Correlation::spearman));
  EXPECT_DOUBLE_EQ(s.mean, s.r.array().square().mean());
  EXPECT_DOUBLE_EQ(s.to_mean_rdm, compare_rdms(model, mean, stats::Correlation::spearman));
  EXPECT_EQ(s.stimuli.resamples, 20);
  EXPECT_LE(s.subjects.low, s.subjects.high);
  EXPECT_THROW(score_rdm(Eigen::MatrixXd::Zero(92, 92), brain, mean, scoring, "flat"), InputError);
}
