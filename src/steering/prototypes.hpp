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
  int batch_size = 32;
  std::uint64_t seed = 0;
  std::filesystem::path out;
};

void run_prototypes(model::LoadedModel& model, const stimuli::StimulusSet& set,
                    const stimuli::Preprocess& preprocess, const PrototypeOptions& options);

}  // namespace lrm::steering
