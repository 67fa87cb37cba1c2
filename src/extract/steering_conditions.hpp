#pragma once
// Steering conditions of an extraction: one (the `--steer-*` options) or several named ones in one
// file (`--condition name=vector[,alpha=A][,mix=W]`), each with its own vector, gain and mix.
#include <cstdint>
#include <string>
#include <vector>

#include "model/lrm_net.hpp"

namespace lrm::extract {

struct SteeringOptions {
  std::string source;       // empty: no steering
  std::string vector_spec;  // file.h5:/dataset holding D, 1×D, or N×D (one row per stimulus)
  double strength_neg = 1.0, strength_pos = 1.0;
  double mix = 1.0;
  bool first_pass = false;
};

struct Condition {
  std::string name;         // empty for the single-condition layout
  std::string vector_spec;  // empty or "none": unsteered
  double strength_neg = 1.0, strength_pos = 1.0, mix = 1.0;
  torch::Tensor vectors;  // 1×D or N×D; undefined when unsteered
  bool steered() const { return vectors.defined(); }
  std::string describe() const;  // "vector=v.h5:/v alpha=3,3 mix=1"
};

// Parses "3" (both gains) or "2:3" (negative, positive gain; the old "2,3" too); otherwise a
// SettingError of `setting` whose text starts with `context`.
std::pair<double, double> parse_strength(const std::string& text, const std::string& setting,
                                         const std::string& context = "");
// Parses "name=file.h5:/v[,alpha=3|alpha=2:3][,mix=0.5]" ("name=none": unsteered); the gain and mix
// default to those of `defaults`.
Condition parse_condition(const std::string& text, const SteeringOptions& defaults);
// The conditions of a run: the --condition list, or the single --steer-vector one, or one
// unsteered condition. Reads the vectors and checks them against the model and the stimulus count.
std::vector<Condition> make_conditions(const SteeringOptions& steering,
                                       const std::vector<std::string>& condition_texts,
                                       model::LrmNetImpl& net, std::size_t n_stimuli);
// The steering of one batch (rows first .. first+count) under a condition.
model::Steering batch_steering(const Condition& c, const SteeringOptions& steering,
                               std::size_t first, std::size_t count);

}  // namespace lrm::extract
