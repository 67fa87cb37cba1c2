#pragma once
// Long-range modulatory (LRM) feedback networks (Konkle & Alvarez): a backbone of named modules,
// feedback pathways from any source module to any destination module with a C×H×W output,
// multiplicative or additive motifs, several passes over the same input, and cognitive steering.
// Pass 0 is plain feed-forward; in pass k ≥ 1 a destination's output y becomes relu(y + y ⊙ F)
// (multiplicative) or relu(y + F) (additive), F summing its pathways' modulations of the source
// outputs kept from pass k − 1. A module run several times in a pass (a shared ReLU, a recurrent
// CORnet area) is modulated at every call; its last call's output is the one kept and recorded.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/names.hpp"

namespace lrm::model {

// ---------------------------------------------------------------------------------------------
// Backbone: stages run in order (a chain's layers, a ResNet's conv1 … layer4, fc, a CORnet's
// areas). Every named module at any depth is a layer with its reference code's name (torchvision's
// `features.3`, `layer4.1.conv2`, CORnet's `V2.conv_input`): a stage reports each module's output
// to a tap as the module produces it, and the tap returns the output that the stage goes on with
// (modulated where a feedback pathway ends there).
class ChainImpl : public torch::nn::Module {
 public:
  using Tap = std::function<torch::Tensor(const std::string& layer, torch::Tensor output)>;
  using Stage = std::function<torch::Tensor(torch::Tensor, const Tap&)>;

  // A single module registered under `name` (no dots), e.g. "avgpool"; with flatten_input,
  // inputs of more than two dimensions are flattened to B×N first (ResNet's fc).
  void add(const std::string& name, torch::nn::AnyModule layer, bool flatten_input = false);
  // A Sequential whose leaves become stages `name.0`, `name.1`, ... (nested Sequentials are
  // expanded at any depth, each reported after its last child); with flatten_input, inputs of
  // more than two dimensions are flattened before its first layer (AlexNet's classifier).
  void add_block(const std::string& name, torch::nn::Sequential block, bool flatten_input = false);
  // A module whose forward is not a chain (a ResNet layer, a recurrent CORnet area): `run` calls
  // the tap for every named module inside it, and last for `name` itself.
  void add_stage(const std::string& name, std::shared_ptr<torch::nn::Module> module, Stage run);
  // A chain-style TorchScript module (torch.jit.script/trace of a model whose forward runs its
  // children in order, e.g. torchvision's AlexNet or VGG): children that hold children are
  // expanded at any depth, and a block containing a Linear flattens its input.
  static std::shared_ptr<ChainImpl> from_torchscript(const std::string& path);

  // Every named module, parents before their children (PyTorch's named_modules order).
  const std::vector<std::string>& layer_names() const { return names_; }
  // Module type of layer i (e.g. "Conv2d", "ReLU", "Linear", "BasicBlock", "Sequential").
  const std::string& layer_type(std::size_t i) const { return types_[i]; }
  // Index of a layer in layer_names(); throws InputError naming it and the closest names.
  std::size_t index_of(const std::string& name, const std::string& what = "layer") const;
  std::size_t stage_count() const { return stages_.size(); }
  // The stage during which `layer` reports its output.
  std::size_t stage_of(std::size_t layer) const { return stage_of_[layer]; }
  torch::Tensor run_stage(std::size_t stage, torch::Tensor x, const Tap& tap);
  void train(bool on = true) override;  // also switches a TorchScript backbone

 private:
  std::size_t add_layer(std::string name, std::string type);
  void expand(const std::string& name, const torch::nn::Sequential& block, bool flatten_first);
  std::vector<std::string> names_, types_;
  std::vector<std::size_t> stage_of_;
  struct StageEntry {
    Stage run;
    bool flatten = false;
  };
  std::vector<StageEntry> stages_;
  std::function<void(bool)> script_train_;
};
TORCH_MODULE(Chain);

// ---------------------------------------------------------------------------------------------
enum class Motif { multiplicative, additive };
// The most passes a command runs: each pass is a full forward call, and a model keeps every pass's
// recorded outputs.
inline constexpr int kMaxPasses = 1000;

inline const Names<Motif> motif_names{{"multiplicative", Motif::multiplicative},
                                      {"additive", Motif::additive}};

struct Pathway {
  std::string source;       // output of any named module (a ReLU, MaxPool, Linear, block, ...)
  std::string destination;  // a module with a C×H×W output (AlexNet: a conv, before its ReLU)
  bool operator==(const Pathway& o) const {
    return source == o.source && destination == o.destination;
  }
};

// Cognitive steering for one forward call.
struct Steering {
  std::string source;    // source layer whose kept output is replaced (paper: classifier.6)
  torch::Tensor vector;  // 1×D (broadcast over the batch) or B×D, shaped like the source output
  // Gains α multiplying σ− and σ+ of the source's pathways during the call: scalars, or 1-D
  // tensors of length B (one gain per batch row, e.g. several conditions in one batch).
  torch::Tensor strength_neg = torch::ones({}), strength_pos = torch::ones({});
  double mix = 1.0;         // w: kept ← w·v + (1−w)·kept
  bool first_pass = false;  // also steer before pass 0 (kept taken as 0 there, i.e. w·v)

  static Steering make(std::string source, torch::Tensor vector, double strength = 1.0,
                       double mix = 1.0, bool first_pass = false);
  void set_strength(double negative, double positive);
};

// What to keep from each pass.
struct Record {
  std::set<std::string> layers;  // layer outputs (destinations: the modulated output)
  bool modulation = false;       // each destination's pre-modulation output and its F
};

struct PassOutput {
  torch::Tensor logits;
  std::map<std::string, torch::Tensor> layers;          // by layer name (Record.layers)
  std::map<std::string, torch::Tensor> pre_modulation;  // by destination (Record.modulation)
  std::map<std::string, torch::Tensor> modulation;      // F by destination (passes ≥ 1)
};

// Source outputs kept after a pass: what the next pass's pathways read. Raw model outputs;
// steering replaces them only when they are used.
struct PassState {
  int passes_done = 0;
  std::map<std::string, torch::Tensor> kept;  // source layer → output of the last pass
  // Rows `rows` of every kept tensor (e.g. repeat pass 0 for several steering conditions).
  PassState select(const torch::Tensor& rows) const;
};

// One pass up to (not including) backbone stage `stage`: the input to that stage, the sources
// kept before it and the recorded layers before it. Steering conditions on one source give the
// same pass up to the first stage that reads the source, so they can share this part.
struct PassPrefix {
  std::size_t stage = 0;
  torch::Tensor x;
  std::map<std::string, torch::Tensor> kept;
  std::map<std::string, torch::Tensor> layers;  // Record.layers before `stage`
  // Rows `rows` of every tensor (e.g. repeated for several steering conditions).
  PassPrefix select(const torch::Tensor& rows) const;
};

struct ForwardResult {
  std::vector<PassOutput> passes;  // one per pass run by the call
  PassState state;                 // to continue with forward_from
  std::vector<torch::Tensor> logits() const;
};

// One pathway's modulation ("mod block"): layer norm → tanh → resize → σ± gain → 1×1 conv.
class ModBlockImpl : public torch::nn::Module {
 public:
  // norm_spatial: {} for a vector source, {H, W} (destination size at the probe input) otherwise.
  ModBlockImpl(std::int64_t source_channels, std::vector<std::int64_t> norm_spatial,
               std::int64_t destination_channels);
  // F for a destination of size height×width; gains multiply σ− and σ+ (scalars or length B).
  torch::Tensor forward(const torch::Tensor& source, std::int64_t height, std::int64_t width,
                        const torch::Tensor& neg_gain, const torch::Tensor& pos_gain);
  torch::Tensor neg_scale, pos_scale, norm_weight, norm_bias;
  torch::nn::Conv2d modulation{nullptr};
};
TORCH_MODULE(ModBlock);

class LrmNetImpl : public torch::nn::Module {
 public:
  // Parameter names follow the published checkpoints: `feedforward.<layer>.*` and
  // `lrm.<dest>_modulation.from_<src>_to_<dest>.*` (dots → underscores). `probe` is the input
  // shape C×H×W used to size the spatial norms (spec: 224×224 for AlexNet).
  LrmNetImpl(Chain backbone, std::vector<Pathway> pathways, Motif motif = Motif::multiplicative,
             std::vector<std::int64_t> probe = {3, 224, 224});

  // Runs passes 0..passes-1 on `input` (B×C×H×W).
  ForwardResult forward(const torch::Tensor& input, int passes, const Steering* steering = nullptr,
                        const Record& record = {});
  // Runs passes state.passes_done..passes-1, reading the sources kept in `state` (e.g. pass 0 run
  // once by forward(input, 1) and shared by several steering conditions). `input` must be the
  // input that produced `state` (same rows).
  // With `prefix` (from forward_prefix on the same state and input), the first pass starts at
  // prefix->stage; stages before it are neither run nor recorded.
  ForwardResult forward_from(const PassState& state, const torch::Tensor& input, int passes,
                             const Steering* steering = nullptr, const Record& record = {},
                             const PassPrefix* prefix = nullptr);
  // Pass state.passes_done, unsteered, up to backbone stage `stage`.
  PassPrefix forward_prefix(const PassState& state, const torch::Tensor& input, std::size_t stage,
                            const Record& record = {});
  // The first backbone stage that a pathway from `source` modulates: passes steered at `source`
  // equal the unsteered pass before it.
  std::size_t first_reader(const std::string& source) const;

  Chain& backbone() { return feedforward_; }
  const std::vector<Pathway>& pathways() const { return pathways_; }
  std::vector<std::string> sources() const;       // distinct, in pathway order
  std::vector<std::string> destinations() const;  // distinct, in pathway order
  Motif motif() const { return motif_; }
  const std::vector<std::int64_t>& probe() const { return probe_; }
  // Throws InputError if the steering does not fit (unknown source, wrong vector length or rows).
  void check_steering(const Steering& steering, std::int64_t batch) const;

 private:
  ForwardResult run(PassState state, const torch::Tensor& input, int passes,
                    const Steering* steering, const Record& record, const PassPrefix* prefix);
  void check_input(const torch::Tensor& input, const Record& record) const;
  // Source activations that pass `pass` reads: the previous pass's, with steering applied.
  std::map<std::string, torch::Tensor> sources_read(const PassState& state, int pass,
                                                    const Steering* steering,
                                                    torch::ScalarType dtype) const;
  // Backbone stages [from, to) of one pass on x (the input to stage `from`).
  torch::Tensor run_stages(std::size_t from, std::size_t to, torch::Tensor x,
                           const std::map<std::string, torch::Tensor>& used,
                           const Steering* steering, const Record& record, PassOutput& out,
                           std::map<std::string, torch::Tensor>& kept);
  Chain feedforward_{nullptr};
  std::vector<Pathway> pathways_;
  Motif motif_;
  std::vector<std::int64_t> probe_;
  std::vector<ModBlock> blocks_;                              // parallel to pathways_
  std::map<std::string, std::vector<std::size_t>> incoming_;  // destination → pathway indices
  std::set<std::string> source_layers_;
};
TORCH_MODULE(LrmNet);

// The `count` names nearest to `name` by edit distance (ties in the order of `names`), for
// messages about unknown names.
std::vector<std::string> closest_names(const std::string& name,
                                       const std::vector<std::string>& names, std::size_t count);

// Name of a pathway's module under `lrm.` (spec): `<dest>_modulation.from_<src>_to_<dest>`.
std::string pathway_module_name(const Pathway& p);

}  // namespace lrm::model
