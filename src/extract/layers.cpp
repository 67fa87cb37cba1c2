#include "extract/layers.hpp"

#include <algorithm>

#include "common/error.hpp"

namespace lrm::extract {
namespace {

// The suffix of a request's name after the layer's.
const Names<Output> suffixes{
    {"", Output::layer}, {":pre", Output::pre_modulation}, {":F", Output::modulation}};

std::vector<LayerRequest> all_requests(model::LrmNetImpl& net) {
  const auto destinations = net.destinations();
  std::vector<LayerRequest> out;
  for (const auto& layer : net.backbone()->layer_names()) {
    out.push_back({layer, layer, Output::layer});
    if (std::find(destinations.begin(), destinations.end(), layer) == destinations.end()) continue;
    for (auto o : {Output::pre_modulation, Output::modulation})
      out.push_back({layer + suffixes.name(o), layer, o});
  }
  return out;
}

}  // namespace

std::vector<LayerRequest> resolve_layers(const std::vector<std::string>& names,
                                         model::LrmNetImpl& net) {
  if (names.empty()) throw SettingError("layers", "give at least one layer name (or all)");
  const auto every = all_requests(net);
  std::vector<bool> wanted(every.size(), false);
  for (const auto& name : names) {
    if (name == "all") {
      std::fill(wanted.begin(), wanted.end(), true);
      continue;
    }
    auto it = std::find_if(every.begin(), every.end(),
                           [&](const LayerRequest& r) { return r.name == name; });
    if (it == every.end()) {
      std::string valid;
      for (const auto& r : every) valid += ", " + r.name;
      throw SettingError(
          "layers",
          "unknown layer '" + name + "'; valid names: all" + valid +
              (net.pathways().empty() ? ""
                                      : " (:pre and :F exist for feedback destinations only)"));
    }
    wanted[it - every.begin()] = true;
  }
  std::vector<LayerRequest> out;
  for (std::size_t i = 0; i < every.size(); ++i)
    if (wanted[i]) out.push_back(every[i]);
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
