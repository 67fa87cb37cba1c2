#pragma once
// What `--layers` names: a module's output (`features.8`, `layer4.1`), and for feedback
// destinations the output before modulation (`features.8:pre`) and the modulation itself
// (`features.8:F`).
#include <string>
#include <vector>

#include "common/names.hpp"
#include "model/lrm_net.hpp"

namespace lrm::extract {

enum class Output { layer, pre_modulation, modulation };
// What a request's arrays hold, as the file's `output` attribute says.
inline const Names<Output> output_kinds{{"output", Output::layer},
                                        {"pre-modulation", Output::pre_modulation},
                                        {"modulation", Output::modulation}};

struct LayerRequest {
  std::string name;   // as written in the file: features.8, features.8:pre, features.8:F
  std::string layer;  // the chain layer: features.8
  Output output = Output::layer;
};

// Resolves names (any named module of the backbone, at any depth) and `all` (every module's
// output but a Sequential's, which repeats its last child's, plus every destination's :pre and
// :F), in the model's order without duplicates; SettingError naming the closest layers for an
// unknown one.
std::vector<LayerRequest> resolve_layers(const std::vector<std::string>& names,
                                         model::LrmNetImpl& net);
// What the forward call must keep to serve the requests.
model::Record record_for(const std::vector<LayerRequest>& requests);
// The requested array of one pass, B×C×H×W or B×C; F has the destination's shape. F is zero in a
// pass without modulation (pass 0 unless steered there), which leaves the output equal to the
// pre-modulation output.
torch::Tensor select_output(const model::PassOutput& pass, const LayerRequest& request);

}  // namespace lrm::extract
