// torchvision's VGG: features (3×3 convs, optional batch norm, ReLU, 2×2 max pools), a 7×7
// adaptive average pool and a three-layer classifier.
#include <vector>

#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "model/backbones/backbones.hpp"

namespace lrm::model::backbones {
namespace nn = torch::nn;
namespace {

constexpr int kPool = 0;

std::vector<int> configuration(int depth) {
  switch (depth) {
    case 11:
      return {64, kPool, 128, kPool, 256, 256, kPool, 512, 512, kPool, 512, 512, kPool};
    case 13:
      return {64, 64, kPool, 128, 128, kPool, 256, 256, kPool, 512, 512, kPool, 512, 512, kPool};
    case 16:
      return {64,    64,  kPool, 128, 128,   kPool, 256, 256, 256,
              kPool, 512, 512,   512, kPool, 512,   512, 512, kPool};
    case 19:
      return {64,  64,  kPool, 128, 128,   kPool, 256, 256, 256, 256,  kPool,
              512, 512, 512,   512, kPool, 512,   512, 512, 512, kPool};
  }
  throw InputError("no VGG of depth " + std::to_string(depth) + " (11, 13, 16, 19)");
}

}  // namespace

Chain vgg(int depth, bool batch_norm, std::int64_t num_classes) {
  nn::Sequential features;
  std::int64_t in = 3;
  for (int v : configuration(depth)) {
    if (v == kPool) {
      features->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
      continue;
    }
    check_interrupt();  // before each layer's random initialisation (seconds for the fc layers)
    auto conv = nn::Conv2d(nn::Conv2dOptions(in, v, 3).padding(1));
    nn::init::kaiming_normal_(conv->weight, 0, torch::kFanOut, torch::kReLU);
    nn::init::zeros_(conv->bias);
    features->push_back(conv);
    if (batch_norm) features->push_back(nn::BatchNorm2d(v));
    features->push_back(nn::ReLU());
    in = v;
  }
  auto linear = [](std::int64_t from, std::int64_t to) {
    check_interrupt();
    auto l = nn::Linear(from, to);
    nn::init::normal_(l->weight, 0, 0.01);
    nn::init::zeros_(l->bias);
    return l;
  };
  nn::Sequential classifier;
  classifier->push_back(linear(512 * 7 * 7, 4096));
  classifier->push_back(nn::ReLU());
  classifier->push_back(nn::Dropout(0.5));
  classifier->push_back(linear(4096, 4096));
  classifier->push_back(nn::ReLU());
  classifier->push_back(nn::Dropout(0.5));
  classifier->push_back(linear(4096, num_classes));
  Chain chain;
  chain->add_block("features", features);
  chain->add("avgpool", nn::AnyModule(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(7))));
  chain->add_block("classifier", classifier, /*flatten_input=*/true);
  return chain;
}

}  // namespace lrm::model::backbones
