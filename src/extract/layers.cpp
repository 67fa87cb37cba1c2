#include "extract/layers.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "common/text.hpp"

namespace lrm::extract {
namespace {

// The suffix of a request's name after the layer's.
const Names<Output> suffixes{
    {"", Output::layer}, {":pre", Output::pre_modulation}, {":F", Output::modulation}};

struct Candidate {
  LayerRequest request;
  bool in_all = true;
};

// Every request the model serves, in the model's order.
std::vector<Candidate> candidates(model::LrmNetImpl& net) {
  const auto destinations = net.destinations();
  const auto& names = net.backbone()->layer_names();
  std::vector<Candidate> out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto& layer = names[i];
    const bool destination =
        std::find(destinations.begin(), destinations.end(), layer) != destinations.end();
    // A Sequential's output is its last child's: `all` leaves it out unless feedback ends there.
    out.push_back({{layer, layer, Output::layer},
                   destination || net.backbone()->layer_type(i) != "Sequential"});
    if (!destination) continue;
    for (auto o : {Output::pre_modulation, Output::modulation})
      out.push_back({{layer + suffixes.name(o), layer, o}, true});
  }
  return out;
}

}  // namespace

std::vector<LayerRequest> resolve_layers(const std::vector<std::string>& names,
                                         model::LrmNetImpl& net) {
  if (names.empty()) throw SettingError("layers", "give at least one layer name (or all)");
  const auto every = candidates(net);
  std::vector<bool> wanted(every.size(), false);
  for (const auto& name : names) {
    if (name == "all") {
      for (std::size_t i = 0; i < every.size(); ++i) wanted[i] = wanted[i] || every[i].in_all;
      continue;
    }
    auto it = std::find_if(every.begin(), every.end(),
                           [&](const Candidate& c) { return c.request.name == name; });
    if (it != every.end()) {
      wanted[it - every.begin()] = true;
      continue;
    }
    // Few names (AlexNet's): list them all; many (a ResNet has hundreds): the closest ones.
    std::vector<std::string> valid;
    for (const auto& c : every) valid.push_back(c.request.name);
    std::string msg =
        "unknown layer '" + name + "'; closest: " + join(model::closest_names(name, valid, 5));
    constexpr std::size_t kListAll = 80;
    if (valid.size() <= kListAll)
      msg += "; valid names: all, " + join(valid) +
             (net.pathways().empty() ? "" : " (:pre and :F exist for feedback destinations only)");
    else
      msg += " (" + std::to_string(valid.size()) + " names; the model's description lists them)";
    throw SettingError("layers", msg);
  }
  std::vector<LayerRequest> out;
  for (std::size_t i = 0; i < every.size(); ++i)
    if (wanted[i]) out.push_back(every[i].request);
  return out;
}

model::Record record_for(const std::vector<LayerRequest>& requests) {
  model::Record record;
  for (const auto& r : requests) {
    if (r.output == Output::layer)
      record.layers.insert(r.layer);
    else
      record.modulation = true;
  }
  return record;
}

torch::Tensor select_output(const model::PassOutput& pass, const LayerRequest& request) {
  switch (request.output) {
    case Output::layer:
      return pass.layers.at(request.layer);
    case Output::pre_modulation:
      return pass.pre_modulation.at(request.layer);
    case Output::modulation: {
      // F from vector sources is B×C×1×1 and broadcasts; store it per destination unit.
      const auto& pre = pass.pre_modulation.at(request.layer);
      auto it = pass.modulation.find(request.layer);
      if (it != pass.modulation.end()) return it->second.expand_as(pre);
      return torch::zeros_like(pre);
    }
  }
  throw std::logic_error("select_output: unknown output kind");
}

}  // namespace lrm::extract
