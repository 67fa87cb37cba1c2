// torchvision's ResNet (v1.5: the stride sits in the 3×3 conv of a Bottleneck).
#include <array>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "model/backbones/backbones.hpp"
#include "model/backbones/in_order.hpp"

namespace lrm::model::backbones {
namespace nn = torch::nn;
namespace {

nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride) {
  check_interrupt();  // before each layer's random initialisation (ResNet-152: hundreds of layers)
  auto c = nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).bias(false));
  nn::init::kaiming_normal_(c->weight, 0, torch::kFanOut, torch::kReLU);
  return c;
}

nn::BatchNorm2d norm(std::int64_t channels) { return nn::BatchNorm2d(channels); }

// BasicBlock (two 3×3 convs) or Bottleneck (1×1, 3×3, 1×1 with 4× the channels out).
class ResidualBlockImpl : public nn::Module {
 public:
  ResidualBlockImpl(std::string name, bool bottleneck, std::int64_t inplanes, std::int64_t planes,
                    std::int64_t stride)
      : nn::Module(bottleneck ? "Bottleneck" : "BasicBlock"), name_(std::move(name)) {
    const std::int64_t out = planes * (bottleneck ? 4 : 1);
    if (bottleneck) {
      add("conv1", conv(inplanes, planes, 1, 1));
      add("bn1", norm(planes));
      add("conv2", conv(planes, planes, 3, stride));
      add("bn2", norm(planes));
      add("conv3", conv(planes, out, 1, 1));
      add("bn3", norm(out));
      relu_ = register_module("relu", nn::ReLU());
    } else {
      add("conv1", conv(inplanes, planes, 3, stride));
      add("bn1", norm(planes));
      relu_ = register_module("relu", nn::ReLU());
      add("conv2", conv(planes, planes, 3, 1));
      add("bn2", norm(planes));
    }
    if (stride != 1 || inplanes != out) {
      downsample_ = register_module("downsample", InOrder("Sequential"));
      downsample_->add("0", nn::AnyModule(conv(inplanes, out, 1, stride)));
      downsample_->add("1", nn::AnyModule(norm(out)));
    }
  }

  // Each conv → bn → relu (the last bn without), then the shortcut, the sum and the last relu.
  torch::Tensor forward(torch::Tensor x, const ChainImpl::Tap& tap) {
    auto out = x;
    for (std::size_t i = 0; i < convs_.size(); ++i) {
      out = tap(name_ + "." + convs_[i].first, convs_[i].second.forward(out));
      out = tap(name_ + "." + norms_[i].first, norms_[i].second.forward(out));
      if (i + 1 < convs_.size()) out = tap(name_ + ".relu", relu_(out));
    }
    auto identity = downsample_ ? downsample_->forward(x, name_ + ".downsample", tap) : x;
    out = tap(name_ + ".relu", relu_(out + identity));
    return tap(name_, out);
  }

 private:
  void add(const std::string& child, nn::Conv2d module) {
    convs_.emplace_back(child, nn::AnyModule(register_module(child, module)));
  }
  void add(const std::string& child, nn::BatchNorm2d module) {
    norms_.emplace_back(child, nn::AnyModule(register_module(child, module)));
  }
  std::string name_;
  std::vector<std::pair<std::string, nn::AnyModule>> convs_, norms_;  // conv i, then norm i
  nn::ReLU relu_{nullptr};
  InOrder downsample_{nullptr};
};
TORCH_MODULE(ResidualBlock);

struct Layout {
  bool bottleneck;
  std::array<int, 4> blocks;
};

Layout layout(int depth) {
  switch (depth) {
    case 18:
      return {false, {2, 2, 2, 2}};
    case 34:
      return {false, {3, 4, 6, 3}};
    case 50:
      return {true, {3, 4, 6, 3}};
    case 101:
      return {true, {3, 4, 23, 3}};
    case 152:
      return {true, {3, 8, 36, 3}};
  }
  throw InputError("no ResNet of depth " + std::to_string(depth) + " (18, 34, 50, 101, 152)");
}

}  // namespace

Chain resnet(int depth, std::int64_t num_classes) {
  const auto l = layout(depth);
  const std::int64_t expansion = l.bottleneck ? 4 : 1;
  Chain chain;
  chain->add("conv1", nn::AnyModule(conv(3, 64, 7, 2)));
  chain->add("bn1", nn::AnyModule(norm(64)));
  chain->add("relu", nn::AnyModule(nn::ReLU()));
  chain->add("maxpool", nn::AnyModule(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1))));
  std::int64_t inplanes = 64;
  for (int stage = 0; stage < 4; ++stage) {
    const std::int64_t planes = 64 << stage;
    const auto name = "layer" + std::to_string(stage + 1);
    auto layer = std::make_shared<nn::Module>("Sequential");
    std::vector<ResidualBlock> blocks;
    for (int b = 0; b < l.blocks[stage]; ++b) {
      const std::int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      blocks.push_back(layer->register_module(
          std::to_string(b),
          ResidualBlock(name + "." + std::to_string(b), l.bottleneck, inplanes, planes, stride)));
      inplanes = planes * expansion;
    }
    chain->add_stage(name, layer, [blocks, name](torch::Tensor x, const ChainImpl::Tap& tap) {
      for (const auto& block : blocks) x = block.ptr()->forward(x, tap);
      return tap(name, x);
    });
  }
  chain->add("avgpool", nn::AnyModule(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1))));
  chain->add("fc", nn::AnyModule(nn::Linear(512 * expansion, num_classes)),
             /*flatten_input=*/true);
  return chain;
}

}  // namespace lrm::model::backbones
