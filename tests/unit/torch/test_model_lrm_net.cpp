// LRM networks: parity with the independent PyTorch implementation (tests/fixtures/model),
// shared pass 0, batched steering conditions, checkpoints and bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.hpp"
#include "io/h5.hpp"
#include "model/checkpoint.hpp"
#include "model/lrm_net.hpp"
#include "model/presets.hpp"
#include "support/temp_path.hpp"

using namespace lrm;
using namespace lrm::model;

namespace {

const std::string kFixtures = std::string(LRM_SOURCE_DIR) + "/tests/fixtures/model/";

torch::Tensor read(const std::string& name) {
  h5::File f(kFixtures + "mnist_lrm3_parity.h5", h5::File::Mode::read);
  auto a = h5::read_array<float>(f, name);
  std::vector<std::int64_t> shape(a.shape.begin(), a.shape.end());
  return torch::from_blob(a.data.data(), shape, torch::kFloat).clone();
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

void expect_logits(const ForwardResult& r, const std::string& run) {
  ASSERT_EQ(r.passes.size(), 3u);
  for (int k = 0; k < 3; ++k)
    EXPECT_LT(max_diff(r.passes[k].logits, read("logits/" + run + "/pass" + std::to_string(k))),
              1e-5)
        << run << " pass " << k;
}

LrmNet fixture_net(const std::string& preset_name = "mnist-lrm") {
  return load_model(preset_name, kFixtures + "mnist_lrm3.pth", 0).net;
}

}  // namespace

TEST(LrmNet, ParityWithPyTorchPlainSteeredWideAdditive) {
  torch::NoGradGuard no_grad;
  auto net = fixture_net();
  auto x = read("x");
  expect_logits(net->forward(x, 3), "plain");
  auto steer = Steering::make("classifier.6", read("v"), 3.0);
  expect_logits(net->forward(x, 3, &steer), "steered");
  auto pair = Steering::make("classifier.6", read("vb"), 1.0, 0.7, true);
  pair.set_strength(2.0, 3.0);
  expect_logits(net->forward(x, 3, &pair), "steered_pair");
  expect_logits(net->forward(read("wide"), 3), "wide");
  expect_logits(fixture_net("mnist-lrm-additive")->forward(x, 3), "additive");
}

TEST(LrmNet, SharedPassZeroMatchesFullRun) {
  torch::NoGradGuard no_grad;
  auto net = fixture_net();
  auto x = read("x");
  auto pass0 = net->forward(x, 1);
  auto steer = Steering::make("classifier.6", read("v"), 3.0);
  auto rest = net->forward_from(pass0.state, x, 3, &steer);
  ASSERT_EQ(rest.passes.size(), 2u);
  EXPECT_LT(max_diff(rest.passes[1].logits, read("logits/steered/pass2")), 1e-5);
}

TEST(LrmNet, ConditionsBatchedWithPerRowStrength) {
  torch::NoGradGuard no_grad;
  auto net = fixture_net();
  auto x = read("x");
  auto pass0 = net->forward(x, 1);
  // Rows 0..3: no steering (α = 0 with w = 0 leaves the model's own output); rows 4..7: α = 3.
  auto rows = torch::cat({torch::arange(4), torch::arange(4)});
  Steering s;
  s.source = "classifier.6";
  s.vector = torch::cat({torch::zeros({4, 10}), read("v").expand({4, 10})});
  s.mix = 1.0;
  s.strength_neg = s.strength_pos = torch::tensor({1.f, 1.f, 1.f, 1.f, 3.f, 3.f, 3.f, 3.f});
  auto both = net->forward_from(pass0.state.select(rows), x.index_select(0, rows), 3, &s);
  EXPECT_LT(max_diff(both.passes[1].logits.slice(0, 4), read("logits/steered/pass2")), 1e-5);
}

TEST(LrmNet, RecordsLayersAndModulation) {
  torch::NoGradGuard no_grad;
  auto net = fixture_net();
  Record rec;
  rec.layers = {"features.0", "classifier.2"};
  rec.modulation = true;
  auto r = net->forward(read("x"), 2, nullptr, rec);
  EXPECT_EQ(r.passes[0].layers.at("features.0").sizes(),
            (std::vector<std::int64_t>{4, 16, 28, 28}));
  EXPECT_EQ(r.passes[1].layers.at("classifier.2").sizes(), (std::vector<std::int64_t>{4, 128}));
  EXPECT_EQ(r.passes[0].modulation.size(), 0u);
  EXPECT_EQ(r.passes[1].modulation.size(), 5u);
  const auto& y = r.passes[1].pre_modulation.at("features.0");
  const auto& F = r.passes[1].modulation.at("features.0");
  EXPECT_LT(max_diff(torch::relu(y + y * F), r.passes[1].layers.at("features.0")), 1e-6);
}

TEST(LrmNet, SuiteCheckpointRoundTripRecordsArchitecture) {
  torch::NoGradGuard no_grad;
  auto net = fixture_net("mnist-lrm-additive");
  auto path = lrm::test_support::temp_path("roundtrip.pt");
  save_checkpoint(path, *net, preset("mnist-lrm-additive"), {{"epoch", "3"}});
  auto loaded = load_model("", path.string(), 1);
  EXPECT_EQ(loaded.architecture.motif, Motif::additive);
  EXPECT_EQ(read_checkpoint(path).meta.at("epoch"), "3");
  expect_logits(loaded.net->forward(read("x"), 3), "additive");
  EXPECT_THROW(load_model("mnist-lrm", path.string(), 0), InputError);  // another motif
  std::filesystem::remove(path);
}

TEST(LrmNet, KeyRewrites) {
  EXPECT_EQ(rewrite_key("module.backbone.features.0.weight"), "feedforward.features.0.weight");
  EXPECT_EQ(rewrite_key("module.lrm.features8_modulation.from_features12_to_features3.neg_scale"),
            "lrm.features_8_modulation.from_features_12_to_features_3.neg_scale");
}

TEST(LrmNet, BadInputIsNamed) {
  auto expect_message = [](auto fn, const std::string& part) {
    try {
      fn();
      ADD_FAILURE() << "no error; expected one mentioning " << part;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  expect_message([] { preset("alexnet-lrm9"); }, "alexnet-lrm3");
  auto net = fixture_net();
  expect_message(
      [&] {
        net->forward(torch::zeros({1, 1, 28, 28}), 1, nullptr, Record{{"features.99"}});
      },
      "classifier.6");
  auto wrong = Steering::make("classifier.6", torch::zeros({1, 1000}));
  expect_message([&] { net->forward(torch::zeros({1, 1, 28, 28}), 2, &wrong); }, "1000 values");
  auto not_source = Steering::make("features.3", torch::zeros({1, 10}));
  expect_message([&] { net->forward(torch::zeros({1, 1, 28, 28}), 2, &not_source); }, "features.9");
  expect_message([] { load_model("mnist-ff", kFixtures + "mnist_lrm3.pth", 0); },
                 "lrm.features_8_modulation.from_classifier_6_to_features_8");
  auto truncated = lrm::test_support::temp_path("truncated.pth");
  {
    std::ifstream in(kFixtures + "mnist_lrm3.pth", std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(truncated, std::ios::binary).write(bytes.data(), bytes.size() / 2);
  }
  expect_message([&] { read_checkpoint(truncated); }, truncated.string());
  std::filesystem::remove(truncated);
  try {  // the setting's key; the CLI prints it as --model
    load_model("", kFixtures + "mnist_lrm3.pth", 0);
    ADD_FAILURE() << "no error for a checkpoint without architecture";
  } catch (const SettingError& e) {
    EXPECT_EQ(e.setting(), "model");
  }
}

TEST(LrmNet, AlexNetInfo) {
  auto net = build(preset("alexnet-lrm3"));
  auto text = describe(*net, {3, 224, 224});
  EXPECT_NE(text.find("64×55×55"), std::string::npos) << text;
  EXPECT_NE(text.find("classifier.2 -> features.6"), std::string::npos);
  Record rec{{"classifier.1"}};
  torch::NoGradGuard no_grad;
  net->eval();
  auto r = net->forward(torch::zeros({1, 3, 224, 448}), 2, nullptr, rec);
  EXPECT_EQ(r.passes[1].logits.size(1), 1000);
  EXPECT_EQ(r.passes[1].layers.at("classifier.1").size(1), 4096);
}
