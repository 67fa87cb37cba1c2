#pragma once
// Many steering conditions on the same inputs. Pass 0 does not depend on the steering, so it runs
// once per input; the modulated passes of all conditions then run together, one batch row per
// (condition, input), with per-row vectors and gains (PassState::select + per-row strengths).
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/lrm_net.hpp"

namespace lrm::steering {

// K conditions applied to each of B inputs.
struct Conditions {
  std::string source;         // steered source layer (e.g. classifier.6)
  torch::Tensor vectors;      // K×B×D: the vector of condition k for input b
  std::vector<double> alpha;  // K gains of σ+ (and of σ− unless alpha_negative is given)
  std::vector<double> alpha_negative;  // K gains of σ− (empty: those of alpha)
  std::int64_t size() const { return static_cast<std::int64_t>(alpha.size()); }
  const std::vector<double>& negative() const {
    return alpha_negative.empty() ? alpha : alpha_negative;
  }
};

struct SweepOptions {
  int passes = 2;               // passes 0..passes−1; the last one is read out
  std::string record_layer;     // also keep this layer's output (empty: none)
  int record_pass = -1;         // pass whose layer output is kept (−1: the last)
  std::int64_t max_rows = 512;  // rows per forward call of the modulated passes
};

struct SweepResult {
  torch::Tensor pass0;      // B×O logits of pass 0
  torch::Tensor unsteered;  // B×O logits of the last pass without steering
  torch::Tensor steered;    // K×B×O logits of the last pass under each condition
  // record_layer at record_pass, flattened: B×U (pass 0 / unsteered) and K×B×U (steered).
  torch::Tensor layer_pass0, layer_unsteered, layer_steered;
};

// Pass 0 once, the unsteered and all steered modulated passes batched.
SweepResult sweep_shared(model::LrmNetImpl& net, const torch::Tensor& input, const Conditions& c,
                         const SweepOptions& o);
// Reference: every condition runs all passes on its own (the naive way, for checks and timing).
SweepResult sweep_naive(model::LrmNetImpl& net, const torch::Tensor& input, const Conditions& c,
                        const SweepOptions& o);

}  // namespace lrm::steering
