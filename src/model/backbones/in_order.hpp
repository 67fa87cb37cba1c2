#pragma once
// A module whose named children run one after the other (a Sequential, CORnet's CORblock_Z),
// reporting each child's output and then its own to the backbone's tap.
#include <string>
#include <utility>
#include <vector>

#include "model/lrm_net.hpp"

namespace lrm::model::backbones {

class InOrderImpl : public torch::nn::Module {
 public:
  // `type` is the reference code's class name, shown by the model description.
  explicit InOrderImpl(std::string type) : torch::nn::Module(std::move(type)) {}
  void add(const std::string& child, torch::nn::AnyModule module) {
    register_module(child, module.ptr());
    children_.emplace_back(child, std::move(module));
  }
  torch::Tensor forward(torch::Tensor x, const std::string& name, const ChainImpl::Tap& tap) {
    for (auto& [child, module] : children_) x = tap(name + "." + child, module.forward(x));
    return tap(name, x);
  }

 private:
  std::vector<std::pair<std::string, torch::nn::AnyModule>> children_;
};
TORCH_MODULE(InOrder);

}  // namespace lrm::model::backbones
