// Reductions at extraction: the --reduce grammar, pools equal to torch's, the sparse random
// projection's density, scaling and Johnson–Lindenstrauss bound, the streamed PCA (both forms)
// against scikit-learn within 1e-5, the stored fits, and errors naming the layer.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/error.hpp"
#include "extract/reduce.hpp"
#include "io/h5.hpp"
#include "support/temp_path.hpp"

using namespace lrm;
using namespace lrm::extract;

namespace {

const std::string kFixture = std::string(LRM_SOURCE_DIR) + "/tests/fixtures/extract/pca_sklearn.h5";

torch::Tensor read(const std::string& path) {
  h5::File f(kFixture, h5::File::Mode::read);
  auto a = h5::read_array<double>(f, path);
  std::vector<std::int64_t> shape(a.shape.begin(), a.shape.end());
  return torch::from_blob(a.data.data(), shape, torch::kDouble).clone();
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// Fits the fixture case `name` through the streamed fitter in uneven batches.
PcaFit fit_case(const std::string& name) {
  auto x = read("/" + name + "/x").to(torch::kFloat).contiguous();
  const auto k = static_cast<std::int64_t>(read("/" + name + "/explained_variance").numel());
  PcaFitter fitter("features.10", 1, x.size(1), x.size(0), k,
                   test_support::temp_path("pca_scratch_" + name));
  for (std::int64_t first = 0; first < x.size(0); first += 7) {
    const auto count = std::min<std::int64_t>(7, x.size(0) - first);
    fitter.add(x.data_ptr<float>() + first * x.size(1), count);
  }
  return fitter.finish();
}

}  // namespace

TEST(ReduceSpec, ParsesOneReductionOrLayerItems) {
  auto all = parse_reduce_spec("srp:1000", "reduce");
  EXPECT_EQ(all.for_layer("features.8").text(), "srp:1000");
  auto items = parse_reduce_spec("avgpool:6x6,features.10=pca:100,classifier.5=none", "reduce");
  EXPECT_EQ(items.for_layer("features.0").text(), "avgpool:6x6");
  EXPECT_EQ(items.for_layer("features.10").text(), "pca:100");
  EXPECT_EQ(items.for_layer("classifier.5").kind, ReduceKind::none);
  EXPECT_TRUE(items.uses(ReduceKind::pca));
  EXPECT_EQ(
      parse_reduce_spec("features.8:pre=srp:50:7", "reduce").for_layer("features.8:pre").text(),
      "srp:50:7");
  EXPECT_EQ(parse_reduce_spec("maxpool", "reduce").fallback.kind, ReduceKind::maxpool);
  for (const auto* bad : {"", "pool", "avgpool:6", "avgpool:0x3", "srp", "srp:-2", "srp:10:x",
                          "pca:1:2", "none:3", "avgpool,maxpool", "a=none,a=srp:3", "=srp:3"})
    EXPECT_THROW(parse_reduce_spec(bad, "reduce"), SettingError) << bad;
}

TEST(Reduce, PoolsEqualTorchsAndKeepPositions) {
  torch::manual_seed(0);
  auto x = torch::randn({3, 4, 13, 13});
  Reducer avg({ReduceKind::avgpool}, "features.10", {4, 13, 13}, 0);
  EXPECT_TRUE(torch::equal(avg.apply(x, 0), torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1)));
  EXPECT_LT(max_abs_diff(avg.apply(x, 0), x.mean({2, 3})), 1e-6);
  Reducer max({ReduceKind::maxpool}, "features.10", {4, 13, 13}, 0);
  EXPECT_TRUE(torch::equal(max.apply(x, 0), x.amax({2, 3})));
  Reduction grid{ReduceKind::avgpool, 6, 6};
  Reducer pooled(grid, "features.10", {4, 13, 13}, 0);
  EXPECT_TRUE(torch::equal(pooled.apply(x, 0), torch::adaptive_avg_pool2d(x, {6, 6})));
  EXPECT_TRUE(pooled.positional());
}

TEST(Reduce, ErrorsNameTheLayer) {
  auto msg = error_of([] { Reducer({ReduceKind::avgpool}, "classifier.5", {4096}, 0); });
  EXPECT_NE(msg.find("classifier.5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("vector layer"), std::string::npos) << msg;
  msg = error_of([] { Reducer({ReduceKind::maxpool, 20, 20}, "features.10", {256, 13, 13}, 0); });
  EXPECT_NE(msg.find("features.10"), std::string::npos) << msg;
  Reduction srp{ReduceKind::srp};
  srp.k = 5000;
  msg = error_of([&] { Reducer(srp, "classifier.5", {4096}, 0); });
  EXPECT_NE(msg.find("classifier.5"), std::string::npos) << msg;
  EXPECT_NE(msg.find("4096"), std::string::npos) << msg;
}

TEST(SparseProjection, DensityScaleAndSeed) {
  const std::int64_t d = 10000, k = 300;
  SparseProjection r(d, k, 5);
  EXPECT_DOUBLE_EQ(r.density(), 0.01);
  EXPECT_DOUBLE_EQ(r.scale(), std::sqrt(1.0 / (0.01 * k)));
  // Nonzeros are Binomial(D·K, density): mean 30,000, sd about 172.
  EXPECT_NEAR(static_cast<double>(r.nonzeros()), 0.01 * d * k, 1000);
  auto dense = r.dense();
  EXPECT_TRUE(torch::equal(dense, SparseProjection(d, k, 5).dense()));
  EXPECT_FALSE(torch::equal(dense, SparseProjection(d, k, 6).dense()));
  // Entries are 0 or ±scale, the signs balanced.
  const auto nonzero = dense.ne(0);
  EXPECT_LT(max_abs_diff(dense.abs().masked_select(nonzero),
                         torch::full({r.nonzeros()}, r.scale(), torch::kDouble)),
            1e-12);
  EXPECT_NEAR(dense.gt(0).sum().item<double>() / r.nonzeros(), 0.5, 0.02);
  // apply() is x R.
  torch::manual_seed(1);
  auto x = torch::randn({4, d});
  auto y = torch::empty({4, k});
  r.apply(x.data_ptr<float>(), 4, y.data_ptr<float>());
  EXPECT_LT(max_abs_diff(y, x.to(torch::kDouble).mm(dense)), 1e-4);
}

// Johnson–Lindenstrauss (Dasgupta & Gupta 2003): a pair's squared distance leaves (1 ± ε) with
// probability at most 2 exp(−K (ε²/2 − ε³/3) / 2), so K ≥ 2 ln(n² / δ) / (ε²/2 − ε³/3) keeps all
// pairs of n points within (1 ± ε) with probability at least 1 − δ. (The better-known
// K ≥ 4 ln n / (ε²/2 − ε³/3) is that with δ = 1: success only with probability ≥ 1/n.) The test
// takes the ε that K = 2,000 gives for n = 40 at δ = 0.01 (ε ≈ 0.16) and checks three seeds.
TEST(SparseProjection, PreservesDistancesWithinTheJohnsonLindenstraussBound) {
  const std::int64_t n = 40, d = 20000, k = 2000;
  const double delta = 0.01, needed = 2 * std::log(static_cast<double>(n * n) / delta);
  double eps = 0.01;
  while (needed / (eps * eps / 2 - eps * eps * eps / 3) > k) eps += 1e-4;
  torch::manual_seed(2);
  // Points with structure (a few directions) and nonnegative like ReLU activations.
  auto x = torch::relu(torch::randn({n, 20}).mm(torch::randn({20, d})) + torch::randn({n, d}));
  x = x.contiguous();
  for (std::uint64_t seed : {0, 1, 2}) {
    SparseProjection r(d, k, seed);
    auto y = torch::empty({n, k});
    r.apply(x.data_ptr<float>(), n, y.data_ptr<float>());
    auto before = torch::cdist(x.to(torch::kDouble), x.to(torch::kDouble)).pow(2);
    auto after = torch::cdist(y.to(torch::kDouble), y.to(torch::kDouble)).pow(2);
    auto off = ~torch::eye(n, torch::kBool);
    auto ratio = after.masked_select(off) / before.masked_select(off);
    EXPECT_GT(ratio.min().item<double>(), 1 - eps) << "seed " << seed << ", eps " << eps;
    EXPECT_LT(ratio.max().item<double>(), 1 + eps) << "seed " << seed << ", eps " << eps;
  }
}

class PcaVsSklearn : public ::testing::TestWithParam<std::string> {};

TEST_P(PcaVsSklearn, StreamedFitMatchesWithin1e5) {
  const auto name = GetParam();
  const auto fit = fit_case(name);
  EXPECT_EQ(fit.layer, "features.10");
  EXPECT_EQ(fit.pass, 1);
  EXPECT_LT(max_abs_diff(fit.components, read("/" + name + "/components")), 1e-5);
  EXPECT_LT(max_abs_diff(fit.mean, read("/" + name + "/mean")), 1e-5);
  const auto ev = read("/" + name + "/explained_variance");
  EXPECT_LT(max_abs_diff(fit.explained_variance / ev, torch::ones_like(ev)), 1e-5);
  EXPECT_LT(
      max_abs_diff(fit.explained_variance_ratio, read("/" + name + "/explained_variance_ratio")),
      1e-5);
  const auto sv = read("/" + name + "/singular_values");
  EXPECT_LT(max_abs_diff(fit.singular_values / sv, torch::ones_like(sv)), 1e-5);
  // The stored fit, read back, projects later stimuli as scikit-learn's transform does.
  const auto file = test_support::temp_path("pca_fit_" + name + ".h5");
  {
    h5::File f(file, h5::File::Mode::create_truncate);
    write_pca_fits(f.root(), {{{fit.layer, fit.pass}, std::make_shared<PcaFit>(fit)}},
                   {"fit.h5:/x", "abc", "model"});
  }
  h5::File f(file, h5::File::Mode::read);
  const auto fits = read_pca_fits(f);
  const auto later = read("/" + name + "/later").to(torch::kFloat);
  Reduction r{ReduceKind::pca};
  Reducer reducer(r, "features.10", {later.size(1)}, 0);
  reducer.set_pca({find_pca_fit(fits, "features.10", 1, file)}, file.string());
  EXPECT_FALSE(reducer.positional());
  EXPECT_LT(max_abs_diff(reducer.apply(later, 0), read("/" + name + "/later_transformed")), 1e-4);
  // pca:3 keeps the first three components.
  r.k = 3;
  Reducer first3(r, "features.10", {later.size(1)}, 0);
  first3.set_pca({find_pca_fit(fits, "features.10", 1, file)}, file.string());
  EXPECT_EQ(first3.apply(later, 0).size(1), 3);
}

INSTANTIATE_TEST_SUITE_P(Forms, PcaVsSklearn, ::testing::Values("gram", "covariance"));

TEST(Pca, StoredFitsOfAnotherLayerAreNamedErrors) {
  const auto fit = std::make_shared<PcaFit>(fit_case("covariance"));
  const PcaFits fits{{{"features.10", 1}, fit}};
  auto msg = error_of([&] { find_pca_fit(fits, "features.8", 1, "fit.h5"); });
  EXPECT_NE(msg.find("features.8"), std::string::npos) << msg;
  EXPECT_NE(msg.find("it holds layer features.10 pass 1"), std::string::npos) << msg;
  Reducer reducer({ReduceKind::pca}, "features.8", {64}, 0);
  msg = error_of([&] { reducer.set_pca({fit}, "fit.h5"); });
  EXPECT_NE(msg.find("features.8"), std::string::npos) << msg;
  Reduction too_many{ReduceKind::pca};
  too_many.k = 9;
  Reducer more(too_many, "features.10", {30}, 0);
  msg = error_of([&] { more.set_pca({fit}, "fit.h5"); });
  EXPECT_NE(msg.find("holds 8 components"), std::string::npos) << msg;
}

TEST(Pca, TooFewNonzeroComponentsIsAnError) {
  // Five distinct rows span at most four centred directions.
  auto x = torch::randn({5, 50}).contiguous();
  PcaFitter fitter("classifier.5", 0, 50, 5, 5, test_support::temp_path("pca_rank"));
  fitter.add(x.data_ptr<float>(), 5);
  const auto msg = error_of([&] { fitter.finish(); });
  EXPECT_NE(msg.find("classifier.5"), std::string::npos) << msg;
}
