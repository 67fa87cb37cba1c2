// Steering sweeps: pass 0 shared and all conditions batched give the outputs of running every
// condition through all passes on its own (multiplicative and additive motifs, chunked batches,
// recorded layers, side-by-side inputs).
#include <gtest/gtest.h>

#include "common/error.hpp"
#include "model/presets.hpp"
#include "steering/sweep.hpp"

using namespace lrm;
using namespace lrm::steering;

namespace {

model::LrmNet random_net(const std::string& preset) {
  torch::manual_seed(7);
  auto net = model::build(model::preset(preset));
  net->eval();
  return net;
}

Conditions random_conditions(std::int64_t batch, std::int64_t width) {
  Conditions c;
  c.source = "classifier.6";
  c.alpha = {1.0, 2.0, 3.0, 0.5, 5.0};
  c.vectors = torch::randn({static_cast<std::int64_t>(c.alpha.size()), batch, width});
  return c;
}

void expect_same(const torch::Tensor& a, const torch::Tensor& b, const std::string& what) {
  ASSERT_TRUE(a.sizes().equals(b.sizes())) << what;
  EXPECT_LT((a - b).abs().max().item<double>(), 1e-5) << what;
  EXPECT_TRUE(torch::equal(a.argmax(-1), b.argmax(-1))) << what;
}

void expect_shared_equals_naive(const std::string& preset, std::int64_t width,
                                std::int64_t max_rows) {
  auto net = random_net(preset);
  auto x = torch::randn({3, 1, 28, width});
  auto c = random_conditions(3, 10);
  SweepOptions o;
  o.record_layer = "features.9";
  o.max_rows = max_rows;
  auto shared = sweep_shared(*net, x, c, o);
  auto naive = sweep_naive(*net, x, c, o);
  expect_same(shared.pass0, naive.pass0, preset + " pass 0");
  expect_same(shared.unsteered, naive.unsteered, preset + " unsteered");
  expect_same(shared.steered, naive.steered, preset + " steered");
  expect_same(shared.layer_steered, naive.layer_steered, preset + " recorded layer");
  EXPECT_EQ(shared.steered.size(0), 5);
  // Steering changes the modulated pass.
  EXPECT_GT((shared.steered[2] - shared.unsteered).abs().max().item<double>(), 1e-4);
}

}  // namespace

TEST(SteeringSweep, SharedEqualsNaiveMultiplicative) {
  expect_shared_equals_naive("mnist-lrm", 28, 512);
}
TEST(SteeringSweep, SharedEqualsNaiveAdditive) {
  expect_shared_equals_naive("mnist-lrm-additive", 28, 512);
}
TEST(SteeringSweep, SharedEqualsNaiveInChunks) { expect_shared_equals_naive("mnist-lrm", 28, 4); }
TEST(SteeringSweep, SharedEqualsNaiveSideBySide) {
  expect_shared_equals_naive("mnist-lrm", 56, 512);
}

TEST(SteeringSweep, ThreePassesAndPassZeroReadout) {
  auto net = random_net("mnist-lrm");
  auto x = torch::randn({2, 1, 28, 28});
  auto c = random_conditions(2, 10);
  SweepOptions o;
  o.passes = 3;
  auto shared = sweep_shared(*net, x, c, o);
  auto naive = sweep_naive(*net, x, c, o);
  expect_same(shared.steered, naive.steered, "3 passes");
  o.record_layer = "features.3";
  o.record_pass = 0;
  auto r = sweep_shared(*net, x, c, o);
  expect_same(r.layer_steered[1], r.layer_pass0, "pass 0 readout does not depend on steering");
}

TEST(SteeringSweep, LayerBeforeTheSteeredPathwaysIsSharedAndRecorded) {
  auto net = random_net("mnist-lrm");
  auto x = torch::randn({3, 1, 28, 28});
  auto c = random_conditions(3, 10);
  SweepOptions o;
  o.record_layer = "features.0";
  ASSERT_LT(net->backbone()->index_of("features.0"), net->first_reader("classifier.6"));
  auto shared = sweep_shared(*net, x, c, o);
  auto naive = sweep_naive(*net, x, c, o);
  expect_same(shared.steered, naive.steered, "steered");
  expect_same(shared.layer_unsteered, naive.layer_unsteered, "recorded layer, unsteered");
  expect_same(shared.layer_steered, naive.layer_steered, "recorded layer, steered");
}

TEST(SteeringSweep, PassFromAPrefixEqualsTheWholePass) {
  torch::NoGradGuard no_grad;
  auto net = random_net("mnist-lrm");
  auto x = torch::randn({2, 1, 28, 28});
  auto first = net->forward(x, 1);
  const auto layer = net->first_reader("classifier.6");
  ASSERT_GT(layer, 0u);
  auto prefix = net->forward_prefix(first.state, x, layer);
  auto s = model::Steering::make("classifier.6", torch::randn({1, 10}), 3.0);
  auto whole = net->forward_from(first.state, x, 3, &s);
  auto from_prefix = net->forward_from(first.state, x, 3, &s, {}, &prefix);
  for (int p = 0; p < 2; ++p)
    EXPECT_TRUE(torch::equal(whole.passes[p].logits, from_prefix.passes[p].logits)) << p;
}

TEST(SteeringSweep, BadInput) {
  auto net = random_net("mnist-lrm");
  auto x = torch::randn({2, 1, 28, 28});
  auto c = random_conditions(2, 10);
  SweepOptions o;
  o.passes = 1;
  EXPECT_THROW(sweep_shared(*net, x, c, o), InputError);
  o.passes = 2;
  c.vectors = torch::randn({5, 2, 7});  // wrong width for classifier.6
  EXPECT_THROW(sweep_shared(*net, x, c, o), InputError);
  c = random_conditions(2, 10);
  c.source = "features.1";  // not a pathway source
  EXPECT_THROW(sweep_shared(*net, x, c, o), InputError);
}

TEST(SteeringSweep, SeparateGainsOfSigmaMinusAndSigmaPlus) {
  auto net = random_net("mnist-lrm");
  auto x = torch::randn({2, 1, 28, 28});
  auto c = random_conditions(2, 10);
  SweepOptions o;
  o.max_rows = 4;  // several forward calls
  const auto same = sweep_shared(*net, x, c, o);
  c.alpha_negative = c.alpha;  // given but equal: the same as not given
  expect_same(sweep_shared(*net, x, c, o).steered, same.steered, "alpha_negative = alpha");
  c.alpha_negative = {0.5, 4.0, 1.0, 2.0, 0.25};
  const auto shared = sweep_shared(*net, x, c, o);
  expect_same(shared.steered, sweep_naive(*net, x, c, o).steered, "separate gains");
  EXPECT_GT((shared.steered - same.steered).abs().max().item<double>(), 1e-6);
  c.alpha_negative = {1.0};
  EXPECT_THROW(sweep_shared(*net, x, c, o), lrm::InternalError);
}
