#include <gtest/gtest.h>

#include <random>

#include "common/error.hpp"
#include "compare/inference.hpp"
#include "compare/rdm.hpp"
#include "compare/resampling.hpp"

using namespace lrm;
using namespace lrm::compare;

namespace {
Eigen::MatrixXd random_rdm(Eigen::Index n, std::mt19937_64& rng, const Eigen::MatrixXd& base,
                           double noise) {
  std::normal_distribution<double> normal;
  Eigen::MatrixXd m = base;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) m(i, j) = m(j, i) = base(i, j) + noise * normal(rng);
  return m;
}
}  // namespace

// A stimulus resample as weights over the original pairs equals the comparison of the resampled
// RDMs with pairs of the same stimulus dropped (rsatoolbox's bootstrap).
TEST(RsaInference, WeightedPairsEqualExpandedResample) {
  std::mt19937_64 rng(7);
  const Eigen::Index n = 12;
  const Eigen::MatrixXd base = random_rdm(n, rng, Eigen::MatrixXd::Zero(n, n), 1.0);
  const Eigen::MatrixXd a = random_rdm(n, rng, base, 0.5), b = random_rdm(n, rng, base, 0.5);
  Resampler draw(3);
  const auto idx = draw.with_replacement(n);
  Eigen::VectorXd count = Eigen::VectorXd::Zero(n);
  for (auto i : idx) count[i] += 1;
  std::vector<double> x, y;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j)
      if (idx[i] != idx[j]) x.push_back(a(idx[i], idx[j])), y.push_back(b(idx[i], idx[j]));
  Eigen::VectorXd w(n * (n - 1) / 2);
  for (Eigen::Index i = 0, k = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) w[k++] = count[i] * count[j];
  for (auto c : {stats::Correlation::spearman, stats::Correlation::pearson,
                 stats::Correlation::rho_a, stats::Correlation::cosine})
    EXPECT_NEAR(weighted_correlation(c, upper_triangle(a), upper_triangle(b), w),
                stats::correlate(c, stats::as_vector(x), stats::as_vector(y)), 1e-12)
        << stats::correlation_name(c);
}

TEST(RsaInference, PointEstimatesAreTheScoresAndCeiling) {
  std::mt19937_64 rng(11);
  const Eigen::Index n = 15;
  const Eigen::MatrixXd truth = random_rdm(n, rng, Eigen::MatrixXd::Zero(n, n), 1.0);
  std::vector<Eigen::MatrixXd> subjects, models;
  for (int s = 0; s < 5; ++s) subjects.push_back(random_rdm(n, rng, truth, 0.7));
  models.push_back(random_rdm(n, rng, truth, 0.3));
  models.push_back(random_rdm(n, rng, truth, 3.0));
  InferenceOptions o;
  o.resamples = 200;
  const auto r = infer(models, subjects, o);
  const auto nc = noise_ceiling(subjects, o.comparison, false, CeilingPool::pooled);
  EXPECT_NEAR(r.ceiling_lower, nc.lower, 1e-12);
  EXPECT_NEAR(r.ceiling_upper, nc.upper, 1e-12);
  double mean = 0;
  for (const auto& s : subjects) mean += compare_rdms(models[0], s, o.comparison) / 5;
  EXPECT_NEAR(r.evaluation[0], mean, 1e-12);
  EXPECT_GT(r.difference(0, 1), 0);
  EXPECT_LT(r.p_pairwise(0, 1), 0.05);
  EXPECT_EQ(r.p_pairwise(0, 1), r.p_pairwise(1, 0));
  EXPECT_LT(r.p_vs_zero[0], 0.05);
  EXPECT_LT(r.p_ceiling_vs_chance, 0.05);
  EXPECT_EQ(r.dof, 4);
  EXPECT_GE(r.valid_resamples, 195);  // a resample of one distinct subject has no ceiling
}

TEST(RsaInference, RefusesTooFewSubjectsAndKendall) {
  const Eigen::MatrixXd m = Eigen::MatrixXd::Ones(4, 4) - Eigen::MatrixXd::Identity(4, 4);
  InferenceOptions o;
  o.over = BootstrapOver::subjects;
  EXPECT_THROW(infer({m}, {m, m}, o), InputError);
  o.over = BootstrapOver::stimuli;
  o.comparison = stats::Correlation::kendall_tau_a;
  EXPECT_THROW(infer({m}, {m, m}, o), SettingError);
}
