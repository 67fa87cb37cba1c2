#pragma once
// Checkpoints: the published `.pth` files (torch.save zip of an OrderedDict state dict, maybe
// nested under `model` or `state_dict`) and the suite's own, which record the architecture.
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "model/lrm_net.hpp"
#include "model/presets.hpp"

namespace lrm::model {

using StateDict = std::map<std::string, torch::Tensor>;

struct Checkpoint {
  StateDict state;                           // after the spec's key rewrites
  std::optional<Architecture> architecture;  // suite checkpoints only
  std::map<std::string, std::string> meta;   // suite checkpoints: training state (epoch, ...)
  StateDict extra;                           // suite checkpoints: optimizer buffers
};

// Reads a checkpoint; InputError naming the file if it is missing, truncated or not a state dict.
Checkpoint read_checkpoint(const std::filesystem::path& path);
// Spec rewrites: drop `module.`, `backbone.` → `feedforward.`, `features(\d+)` → `features_\1`.
std::string rewrite_key(const std::string& key);
// Strict load: InputError naming every missing, unexpected and mis-shaped key.
void load_state_dict(torch::nn::Module& net, const StateDict& state, const std::string& source);
void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& net,
                     const Architecture& arch, const std::map<std::string, std::string>& meta = {},
                     const StateDict& extra = {});

// The model a command asks for: `model` is a model spec text (ModelSpec: a preset or backbone name
// with optional feedback, motif and class count; the name may be empty when `weights` is a suite
// checkpoint); `weights` a checkpoint path or empty (random weights from `seed`). Checkpoints: the
// suite's (architecture recorded), the published LRM models' (feedforward.* and lrm.* keys), or a
// backbone's own state dict (torchvision, CORnet), whose feedback parameters start from `seed`.
struct LoadedModel {
  LrmNet net{nullptr};
  Architecture architecture;
  std::string description;                  // preset or checkpoint path
  std::map<std::string, std::string> meta;  // suite checkpoints: training record (classes, epoch)
};
LoadedModel load_model(const std::string& model, const std::string& weights, std::uint64_t seed);
// A chain-style TorchScript model with the pathways and motif of `model` (a model spec text
// without a name); `probe` (C×H×W) sizes the feedback.
LoadedModel load_torchscript(const std::string& path, const std::string& model,
                             std::vector<std::int64_t> probe, std::uint64_t seed);

}  // namespace lrm::model
