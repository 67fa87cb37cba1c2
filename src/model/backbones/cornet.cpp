// dicarlolab's CORnet-Z and CORnet-S: areas V1, V2, V4 and IT, then a decoder.
#include <cmath>

#include "common/interrupt.hpp"
#include "model/backbones/backbones.hpp"
#include "model/backbones/in_order.hpp"

namespace lrm::model::backbones {
namespace nn = torch::nn;
namespace {

nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride, bool bias) {
  check_interrupt();  // before each layer's random initialisation
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).bias(bias));
}

InOrder decoder(std::int64_t num_classes) {
  InOrder d("Sequential");
  d->add("avgpool", nn::AnyModule(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1))));
  d->add("flatten", nn::AnyModule(nn::Flatten()));
  d->add("linear", nn::AnyModule(nn::Linear(512, num_classes)));
  d->add("output", nn::AnyModule(nn::Identity()));
  return d;
}

void add_in_order(Chain& chain, const std::string& name, InOrder module) {
  chain->add_stage(name, module.ptr(), [module, name](torch::Tensor x, const ChainImpl::Tap& tap) {
    return module.ptr()->forward(x, name, tap);
  });
}

// One recurrent area of CORnet-S: its convs are reused at every time step, with a batch norm per
// step; step 0 halves the resolution (conv2 at stride 2, a strided skip path).
class CORblockSImpl : public nn::Module {
 public:
  CORblockSImpl(std::string name, std::int64_t in, std::int64_t out, int times)
      : nn::Module("CORblock_S"), name_(std::move(name)), times_(times) {
    constexpr std::int64_t kScale = 4;
    conv_input = register_module("conv_input", conv(in, out, 1, 1, false));
    skip = register_module("skip", conv(out, out, 1, 2, false));
    norm_skip = register_module("norm_skip", nn::BatchNorm2d(out));
    conv1 = register_module("conv1", conv(out, out * kScale, 1, 1, false));
    nonlin1 = register_module("nonlin1", nn::ReLU());
    conv2 = register_module("conv2", conv(out * kScale, out * kScale, 3, 2, false));
    nonlin2 = register_module("nonlin2", nn::ReLU());
    conv3 = register_module("conv3", conv(out * kScale, out, 1, 1, false));
    nonlin3 = register_module("nonlin3", nn::ReLU());
    output = register_module("output", nn::Identity());
    for (int t = 0; t < times; ++t)
      for (auto [i, channels] : {std::pair{1, out * kScale}, {2, out * kScale}, {3, out}})
        norms_.push_back(register_module("norm" + std::to_string(i) + "_" + std::to_string(t),
                                         nn::BatchNorm2d(channels)));
  }

  torch::Tensor forward(torch::Tensor input, const ChainImpl::Tap& tap) {
    auto at = [&](const char* child) { return name_ + "." + child; };
    auto x = tap(at("conv_input"), conv_input(input));
    torch::Tensor out;
    for (int t = 0; t < times_; ++t) {
      auto norm = [&](int i, torch::Tensor v) {
        const auto child = "norm" + std::to_string(i) + "_" + std::to_string(t);
        return tap(name_ + "." + child, norms_[3 * t + i - 1](v));
      };
      torch::Tensor shortcut = x;
      if (t == 0) shortcut = tap(at("norm_skip"), norm_skip(tap(at("skip"), skip(x))));
      x = tap(at("nonlin1"), nonlin1(norm(1, tap(at("conv1"), conv1(x)))));
      auto y = torch::conv2d(x, conv2->weight, {}, t == 0 ? 2 : 1, 1);
      x = tap(at("nonlin2"), nonlin2(norm(2, tap(at("conv2"), y))));
      x = norm(3, tap(at("conv3"), conv3(x)));
      x = tap(at("nonlin3"), nonlin3(x + shortcut));
      out = tap(at("output"), output(x));
    }
    return tap(name_, out);
  }

  nn::Conv2d conv_input{nullptr}, skip{nullptr}, conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  nn::BatchNorm2d norm_skip{nullptr};
  nn::ReLU nonlin1{nullptr}, nonlin2{nullptr}, nonlin3{nullptr};
  nn::Identity output{nullptr};

 private:
  std::string name_;
  int times_;
  std::vector<nn::BatchNorm2d> norms_;  // norm1_t, norm2_t, norm3_t for each step t
};
TORCH_MODULE(CORblockS);

}  // namespace

Chain cornet_z(std::int64_t num_classes) {
  Chain chain;
  const std::pair<const char*, std::array<std::int64_t, 4>> areas[] = {{"V1", {3, 64, 7, 2}},
                                                                       {"V2", {64, 128, 3, 1}},
                                                                       {"V4", {128, 256, 3, 1}},
                                                                       {"IT", {256, 512, 3, 1}}};
  for (const auto& [name, a] : areas) {
    InOrder block("CORblock_Z");
    auto c = conv(a[0], a[1], a[2], a[3], true);
    nn::init::xavier_uniform_(c->weight);
    nn::init::zeros_(c->bias);
    block->add("conv", nn::AnyModule(c));
    block->add("nonlin", nn::AnyModule(nn::ReLU()));
    block->add("pool", nn::AnyModule(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1))));
    block->add("output", nn::AnyModule(nn::Identity()));
    add_in_order(chain, name, block);
  }
  add_in_order(chain, "decoder", decoder(num_classes));
  return chain;
}

Chain cornet_s(std::int64_t num_classes) {
  Chain chain;
  InOrder v1("Sequential");
  v1->add("conv1", nn::AnyModule(conv(3, 64, 7, 2, false)));
  v1->add("norm1", nn::AnyModule(nn::BatchNorm2d(64)));
  v1->add("nonlin1", nn::AnyModule(nn::ReLU()));
  v1->add("pool", nn::AnyModule(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1))));
  v1->add("conv2", nn::AnyModule(conv(64, 64, 3, 1, false)));
  v1->add("norm2", nn::AnyModule(nn::BatchNorm2d(64)));
  v1->add("nonlin2", nn::AnyModule(nn::ReLU()));
  v1->add("output", nn::AnyModule(nn::Identity()));
  add_in_order(chain, "V1", v1);
  const std::tuple<const char*, std::int64_t, std::int64_t, int> areas[] = {
      {"V2", 64, 128, 2}, {"V4", 128, 256, 4}, {"IT", 256, 512, 2}};
  for (const auto& [name, in, out, times] : areas) {
    CORblockS block(name, in, out, times);
    chain->add_stage(name, block.ptr(), [block](torch::Tensor x, const ChainImpl::Tap& tap) {
      return block.ptr()->forward(x, tap);
    });
  }
  add_in_order(chain, "decoder", decoder(num_classes));
  // CORnet-S's initialisation: conv weights N(0, 2 / (k·k·out)).
  for (auto& m : chain->modules())
    if (auto* c = m->as<nn::Conv2d>()) {
      const auto& k = c->options.kernel_size();
      const double n = static_cast<double>((*k)[0] * (*k)[1] * c->options.out_channels());
      nn::init::normal_(c->weight, 0, std::sqrt(2.0 / n));
    }
  return chain;
}

}  // namespace lrm::model::backbones
