#pragma once
// `lrm prototypes`: category prototypes (mean output of a layer over each category's exemplars)
// computed once and stored in /prototypes for `lrm steer` and `lrm attend` (README "Prototypes").
#include <cstdint>
#include <filesystem>
#include <string>

#include "model/checkpoint.hpp"
#include "stimuli/stimulus_set.hpp"

namespace lrm::steering {

struct PrototypeOptions {
  std::string model, weights;  // recorded in the provenance
  std::string layer;           // empty: the model's last layer (its output)
  int pass = 0;
  int batch_size = 32;  // images per forward call, streamed as `lrm extract` streams them
  std::uint64_t seed = 0;
  std::filesystem::path out;
};

// What `lrm prototypes` reports besides its results file.
struct PrototypeResult {
  std::size_t categories = 0;
  std::string layer;
  int pass = 0;
  std::int64_t units = 0;
};

PrototypeResult run_prototypes(model::LoadedModel& model, const stimuli::StimulusSet& set,
                               const stimuli::Preprocess& preprocess,
                               const PrototypeOptions& options);

}  // namespace lrm::steering
