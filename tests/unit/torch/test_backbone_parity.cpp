// Backbone parity with the published lrm-steering code (tests/fixtures/model/backbones: ResNet-18,
// VGG-11 and CORnet-Z with three or more pathways, logits of passes 0–2 unsteered and steered at
// α = 3). The weights are not stored: both sides compute every tensor from its key by the formula
// of the fixtures' README.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "io/h5.hpp"
#include "model/checkpoint.hpp"
#include "model/lrm_net.hpp"
#include "model/presets.hpp"

using namespace lrm;
using namespace lrm::model;

namespace {

const std::string kFixtures = std::string(LRM_SOURCE_DIR) + "/tests/fixtures/model/backbones/";

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Element i of the tensor at position k of the sorted keys (a 32-bit integer hash to [0, 1)).
double uniform(std::uint32_t k, std::uint32_t i) {
  std::uint32_t x = i + (k + 1) * 0x9E3779B9u;
  x ^= x >> 16;
  x *= 0x85EBCA6Bu;
  x ^= x >> 13;
  x *= 0xC2B2AE35u;
  x ^= x >> 16;
  return x / 4294967296.0;
}

torch::Tensor formula_tensor(const std::string& key, std::uint32_t k, const torch::Tensor& like) {
  if (ends_with(key, ".num_batches_tracked")) return torch::zeros_like(like);
  // value = offset + su·u + sv·v, by the key's last name component and rank.
  double offset = 0, su = 0, sv = 0;
  if (ends_with(key, ".running_mean")) {
    sv = 0.1;
  } else if (ends_with(key, ".running_var")) {
    offset = 0.75, su = 0.5;
  } else if (ends_with(key, ".neg_scale") || ends_with(key, ".pos_scale")) {
    offset = 0.5, su = 1;
  } else if (ends_with(key, ".rescale.norm.weight")) {
    offset = 1, sv = 0.2;
  } else if (ends_with(key, ".rescale.norm.bias")) {
    sv = 0.2;
  } else if (ends_with(key, ".weight") && like.dim() >= 2) {
    sv = std::sqrt(3.0 / (static_cast<double>(like.numel()) / like.size(0)));
  } else if (ends_with(key, ".weight")) {
    offset = 1, sv = 0.1;
  } else {
    sv = 0.05;
  }
  std::vector<float> values(like.numel());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double u = uniform(k, static_cast<std::uint32_t>(i));
    values[i] = static_cast<float>(offset + su * u + sv * (2 * u - 1));
  }
  return torch::from_blob(values.data(), like.sizes(), torch::kFloat).clone();
}

// The state dict of `net` by the formula; its keys must be the fixture's.
StateDict formula_state(LrmNetImpl& net, const h5::File& f) {
  StateDict shapes;
  for (const auto& p : net.named_parameters()) shapes[p.key()] = p.value();
  for (const auto& b : net.named_buffers()) shapes[b.key()] = b.value();
  std::vector<std::string> keys;
  for (const auto& kv : shapes) keys.push_back(kv.first);  // std::map: byte-wise order
  auto expected = h5::read_strings(f, "/weights/names");
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(keys, expected) << "state-dict keys differ from the published model's";
  const auto sums = h5::read_array<double>(f, "/weights/sum");
  const auto names = h5::read_strings(f, "/weights/names");
  StateDict state;
  for (std::uint32_t k = 0; k < keys.size(); ++k)
    state[keys[k]] = formula_tensor(keys[k], k, shapes[keys[k]]);
  for (std::size_t j = 0; j < names.size(); ++j) {
    auto it = state.find(names[j]);
    if (it == state.end()) continue;
    EXPECT_NEAR(it->second.to(torch::kDouble).sum().item<double>(), sums.data[j],
                1e-6 * std::max(1.0, std::abs(sums.data[j])))
        << names[j];
  }
  return state;
}

torch::Tensor read(const h5::File& f, const std::string& name) {
  auto a = h5::read_array<float>(f, name);
  std::vector<std::int64_t> shape(a.shape.begin(), a.shape.end());
  return torch::from_blob(a.data.data(), shape, torch::kFloat).clone();
}

void expect_parity(const std::string& backbone, const std::string& steer_source) {
  torch::NoGradGuard no_grad;
  h5::File f(kFixtures + backbone + ".h5", h5::File::Mode::read);
  std::string feedback;
  for (const auto& p : h5::read_strings(f, "/pathways"))
    feedback += (feedback.empty() ? "" : ",") + p;
  const auto pathways = parse_pathways(feedback, "feedback");
  ASSERT_GE(pathways.size(), 3u);
  const auto x = read(f, "/x");
  LrmNet net(make_backbone(backbone, 1000), pathways, Motif::multiplicative,
             std::vector<std::int64_t>{3, x.size(2), x.size(3)});
  load_state_dict(*net, formula_state(*net, f), backbone);
  net->eval();
  const auto plain = net->forward(x, 3);
  auto steering = Steering::make(steer_source, read(f, "/goal"), 3.0);
  const auto steered = net->forward(x, 3, &steering);
  for (int k = 0; k < 3; ++k) {
    const auto pass = "/pass" + std::to_string(k);
    EXPECT_LT((plain.passes[k].logits - read(f, "/logits/plain" + pass)).abs().max().item<double>(),
              1e-4)
        << backbone << " plain" << pass;
    EXPECT_LT(
        (steered.passes[k].logits - read(f, "/logits/steered" + pass)).abs().max().item<double>(),
        1e-4)
        << backbone << " steered" << pass;
  }
}

}  // namespace

TEST(BackboneParity, ResNet18) { expect_parity("resnet18", "fc"); }
TEST(BackboneParity, Vgg11) { expect_parity("vgg11", "classifier.6"); }
TEST(BackboneParity, CornetZ) { expect_parity("cornet_z", "decoder.linear"); }
