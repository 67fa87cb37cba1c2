#include <gtest/gtest.h>
#include <omp.h>

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

// The RDM vectors of a and b resampled at `idx` (pairs of the same stimulus dropped), and the
// pair weights of the same resample.
void expand(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b,
            const std::vector<std::int64_t>& idx, std::vector<double>& x, std::vector<double>& y,
            Eigen::VectorXd& w) {
  const auto n = a.rows();
  Eigen::VectorXd count = Eigen::VectorXd::Zero(n);
  for (auto i : idx) count[i] += 1;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j)
      if (idx[i] != idx[j]) x.push_back(a(idx[i], idx[j])), y.push_back(b(idx[i], idx[j]));
  w.resize(n * (n - 1) / 2);
  for (Eigen::Index i = 0, k = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) w[k++] = count[i] * count[j];
}

// Four subjects' noisy copies of a random RDM of n stimuli, and three models of growing noise.
struct RdmSet {
  std::vector<Eigen::MatrixXd> models, subjects;
};
RdmSet noisy_rdms(std::uint64_t seed, Eigen::Index n) {
  std::mt19937_64 rng(seed);
  const Eigen::MatrixXd truth = random_rdm(n, rng, Eigen::MatrixXd::Zero(n, n), 1.0);
  RdmSet set;
  for (int s = 0; s < 4; ++s) set.subjects.push_back(random_rdm(n, rng, truth, 0.7));
  for (int m = 0; m < 3; ++m) set.models.push_back(random_rdm(n, rng, truth, 0.5 + m));
  return set;
}

// The same shape and values, NaN where NaN.
bool same(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         ((a.array() == b.array()) || (a.array().isNaN() && b.array().isNaN())).all();
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
  std::vector<double> x, y;
  Eigen::VectorXd w;
  expand(a, b, draw.with_replacement(n), x, y, w);
  for (auto c : {stats::Correlation::spearman, stats::Correlation::pearson,
                 stats::Correlation::rho_a, stats::Correlation::cosine,
                 stats::Correlation::kendall_tau_a, stats::Correlation::kendall_tau_b})
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

// Ties within and across the vectors (a coarse model RDM), as the taus' tie terms need.
TEST(RsaInference, WeightedKendallWithTiesEqualsExpanded) {
  std::mt19937_64 rng(5);
  const Eigen::Index n = 14;
  const Eigen::MatrixXd base = random_rdm(n, rng, Eigen::MatrixXd::Zero(n, n), 1.0);
  const Eigen::MatrixXd a = random_rdm(n, rng, base, 0.5).array().round();
  const Eigen::MatrixXd b = random_rdm(n, rng, base, 0.5);
  Resampler draw(9);
  std::vector<double> x, y;
  Eigen::VectorXd w;
  expand(a, b, draw.with_replacement(n), x, y, w);
  for (auto c : {stats::Correlation::kendall_tau_a, stats::Correlation::kendall_tau_b}) {
    EXPECT_NEAR(weighted_correlation(c, upper_triangle(a), upper_triangle(b), w),
                stats::correlate(c, stats::as_vector(x), stats::as_vector(y)), 1e-14);
    EXPECT_NEAR(weighted_correlation(c, upper_triangle(b), upper_triangle(a), w),
                stats::correlate(c, stats::as_vector(y), stats::as_vector(x)), 1e-14);
  }
}

TEST(RsaInference, RefusesTooFewSubjects) {
  const Eigen::MatrixXd m = Eigen::MatrixXd::Ones(4, 4) - Eigen::MatrixXd::Identity(4, 4);
  InferenceOptions o;
  o.over = BootstrapOver::subjects;
  EXPECT_THROW(infer({m}, {m, m}, o), InputError);
}

// Each resample is drawn from (seed, index) and scored on its own: the same arrays whatever the
// thread count.
TEST(RsaInference, SameResultsWhateverTheThreadCount) {
  const auto [models, subjects] = noisy_rdms(13, 20);
  for (auto c : {stats::Correlation::spearman, stats::Correlation::kendall_tau_b}) {
    InferenceOptions o;
    o.comparison = c;
    o.resamples = 40;
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    const auto one = infer(models, subjects, o);
    omp_set_num_threads(3);
    const auto three = infer(models, subjects, o);
    omp_set_num_threads(threads);
    EXPECT_TRUE(same(one.samples, three.samples));
    EXPECT_EQ(one.p_pairwise(0, 1), three.p_pairwise(0, 1));
    EXPECT_EQ(one.p_ceiling_vs_chance, three.p_ceiling_vs_chance);
  }
}

// MPI ranks score contiguous ranges of the draws and rank 0 summarises the stacked rows: the same
// arrays as infer for every bootstrap.
TEST(RsaInference, RangesScoredApartAndSummarisedEqualInfer) {
  const auto [models, subjects] = noisy_rdms(17, 16);
  for (auto over : {BootstrapOver::stimuli, BootstrapOver::subjects, BootstrapOver::both}) {
    InferenceOptions o;
    o.over = over;
    o.resamples = 25;
    const auto whole = infer(models, subjects, o);
    const auto prepared = prepare_inference(models, subjects, o);
    auto rows = score_resamples(*prepared, 0, 9);
    const auto rest = score_resamples(*prepared, 9, 25);
    ASSERT_EQ(rows.size(), rest.size());
    for (std::size_t k = 0; k < rows.size(); ++k) {
      Eigen::MatrixXd stacked(25, rows[k].cols());
      stacked << rows[k], rest[k];
      rows[k] = stacked;
    }
    const auto parts = summarise_resamples(*prepared, rows);
    const std::string name = bootstrap_over_names.name(over);
    EXPECT_TRUE(same(whole.samples, parts.samples)) << name;
    EXPECT_TRUE(same(whole.samples_subjects, parts.samples_subjects)) << name;
    EXPECT_TRUE(same(whole.samples_stimuli, parts.samples_stimuli)) << name;
    EXPECT_TRUE(same(whole.evaluation, parts.evaluation)) << name;
    EXPECT_TRUE(same(whole.evaluation_sd, parts.evaluation_sd)) << name;
    EXPECT_TRUE(same(whole.p_pairwise_fdr, parts.p_pairwise_fdr)) << name;
    EXPECT_TRUE(same(whole.p_vs_lower_ceiling, parts.p_vs_lower_ceiling)) << name;
    EXPECT_EQ(whole.valid_resamples, parts.valid_resamples) << name;
    EXPECT_EQ(whole.p_ceiling_vs_chance, parts.p_ceiling_vs_chance) << name;
  }
}
