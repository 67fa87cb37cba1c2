// Backbones with their reference code's module names: layer lists, parameter counts (torchvision's
// published figures), feedback between any named modules, and their bad input.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.hpp"
#include "model/checkpoint.hpp"
#include "model/lrm_net.hpp"
#include "model/presets.hpp"

using namespace lrm;
using namespace lrm::model;

namespace {

bool has_layer(LrmNetImpl& net, const std::string& name) {
  const auto& names = net.backbone()->layer_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(Backbones, TorchvisionNamesAndParameterCounts) {
  const std::vector<std::pair<std::string, std::int64_t>> published{{"alexnet", 61100840},
                                                                    {"vgg11", 132863336},
                                                                    {"vgg16_bn", 138365992},
                                                                    {"resnet18", 11689512},
                                                                    {"resnet50", 25557032}};
  for (const auto& [name, count] : published) {
    auto net = build(preset(name));
    EXPECT_EQ(parameter_count(*net->backbone()), count) << name;
  }
  auto resnet = build(preset("resnet18"));
  for (const char* layer :
       {"conv1", "bn1", "layer3.1.conv2", "layer4.1", "layer4", "layer2.0.downsample.1", "fc"})
    EXPECT_TRUE(has_layer(*resnet, layer)) << layer;
  const auto& names = resnet->backbone()->layer_names();
  EXPECT_EQ(resnet->backbone()->layer_type(std::find(names.begin(), names.end(), "layer4.1") -
                                           names.begin()),
            "BasicBlock");
  EXPECT_EQ(names.back(), "fc");
  EXPECT_TRUE(has_layer(*build(preset("resnet50")), "layer4.2.conv3"));
}

TEST(Backbones, CornetNamesAndRecurrence) {
  auto z = build(preset("cornet_z"));
  for (const char* layer : {"V1", "V1.conv", "V2.output", "IT.pool", "decoder.linear"})
    EXPECT_TRUE(has_layer(*z, layer)) << layer;
  auto s = build(preset("cornet_s"));
  for (const char* layer :
       {"V1.conv1", "V2.conv_input", "V2.norm_skip", "V4.norm1_3", "IT.output", "decoder.output"})
    EXPECT_TRUE(has_layer(*s, layer)) << layer;
  EXPECT_FALSE(has_layer(*s, "V2.norm1_2"));  // V2 runs 2 steps
  torch::NoGradGuard no_grad;
  s->eval();
  Record all;
  all.layers = {"V2.conv1", "V2", "IT", "decoder.linear"};
  auto r = s->forward(torch::randn({2, 3, 224, 224}), 1, nullptr, all);
  // The last step's outputs: conv1 sees V2's half-resolution input in step 1.
  EXPECT_EQ(r.passes[0].layers.at("V2.conv1").sizes(), (at::IntArrayRef{2, 512, 28, 28}));
  EXPECT_EQ(r.passes[0].layers.at("V2").sizes(), (at::IntArrayRef{2, 128, 28, 28}));
  EXPECT_EQ(r.passes[0].layers.at("IT").sizes(), (at::IntArrayRef{2, 512, 7, 7}));
  EXPECT_EQ(r.passes[0].logits.sizes(), (at::IntArrayRef{2, 1000}));
}

TEST(Backbones, FeedbackBetweenAnyNamedModules) {
  torch::NoGradGuard no_grad;
  auto arch = preset(
      "resnet18;feedback=fc:layer4.0.conv1,layer4.1:layer2.0.conv1,"
      "layer3.1:conv1,avgpool:layer1;classes=7");
  auto net = build(arch);
  net->eval();
  EXPECT_EQ(net->pathways().size(), 4u);
  auto x = torch::randn({2, 3, 96, 128});
  Record rec;
  rec.layers = {"layer2.0.conv1", "fc"};
  rec.modulation = true;
  auto r = net->forward(x, 3, nullptr, rec);
  ASSERT_EQ(r.passes.size(), 3u);
  EXPECT_EQ(r.passes[2].logits.sizes(), (at::IntArrayRef{2, 7}));
  // Pass 0 is feed-forward; later passes differ and are modulated at every destination.
  EXPECT_TRUE(r.passes[0].modulation.empty());
  EXPECT_GT((r.passes[1].logits - r.passes[0].logits).abs().max().item<double>(), 0);
  EXPECT_EQ(r.passes[1].modulation.size(), 4u);
  // A steering condition shares the part of the pass before the first stage it modulates.
  auto steer = Steering::make("fc", torch::randn({1, 7}), 3.0);
  auto full = net->forward(x, 3, &steer);
  auto pass0 = net->forward(x, 1);
  auto prefix = net->forward_prefix(pass0.state, x, net->first_reader("fc"));
  auto rest = net->forward_from(pass0.state, x, 3, &steer, {}, &prefix);
  EXPECT_LT((rest.passes[1].logits - full.passes[2].logits).abs().max().item<double>(), 1e-5);
  // Same pathways on CORnet and VGG.
  for (const char* spec :
       {"cornet_z;feedback=decoder.linear:V1.conv,IT.output:V2.conv,V4:V1;motif=additive",
        "vgg11_bn;feedback=classifier.6:features.0,features.28:features.8",
        "cornet_s;feedback=decoder.output:V2.conv2,IT:V4.conv_input"}) {
    auto m = build(preset(spec));
    m->eval();
    auto out = m->forward(torch::randn({1, 3, 128, 128}), 2);
    EXPECT_TRUE(torch::isfinite(out.passes[1].logits).all().item<bool>()) << spec;
  }
}

TEST(Backbones, BadInputIsNamed) {
  // Unknown module: the closest names.
  auto msg = message_of([] { build(preset("resnet18;feedback=fc:layer4.0.conv9")); });
  EXPECT_NE(msg.find("layer4.0.conv1"), std::string::npos) << msg;
  // No spatial output to modulate.
  msg = message_of([] { build(preset("resnet18;feedback=layer4:fc")); });
  EXPECT_NE(msg.find("no spatial"), std::string::npos) << msg;
  // Unknown backbone lists the backbones.
  msg = message_of([] { preset("resnet19"); });
  EXPECT_NE(msg.find("resnet18"), std::string::npos) << msg;
  // A preset with its own pathways and --feedback.
  EXPECT_THROW(preset("alexnet-lrm3;feedback=classifier.6:features.0"), SettingError);
  EXPECT_THROW(preset("resnet18;feedback=fc"), SettingError);
  // Named pathway sets stay on alexnet.
  EXPECT_EQ(preset("alexnet;feedback=lrm3").pathways, preset("alexnet-lrm3").pathways);
}
