#pragma once
// A labelled stimulus set held in memory for training and evaluation (small sets such as MNIST).
#include <cstdint>
#include <string>
#include <vector>

#include "stimuli/stimulus_set.hpp"

namespace lrm::model {

struct LabelledData {
  std::vector<float> images;         // N×C×H×W, preprocessed
  std::vector<std::int64_t> shape;   // {N, C, H, W}
  std::vector<std::int64_t> labels;  // class index per image
  std::vector<std::string> classes;  // class names (categories) by index
};

// Every image of `set`, preprocessed with `p`, labelled by the index of its category in `classes`
// (the model's class names in output order). InputError if the set is empty or a category is not
// among `classes`.
LabelledData load_labelled(const stimuli::StimulusSet& set, const stimuli::Preprocess& p,
                           const std::vector<std::string>& classes);

}  // namespace lrm::model
