#pragma once
// A labelled stimulus set held in memory for training and evaluation (small sets such as MNIST).
#include <cstdint>
#include <string>
#include <vector>

namespace lrm::model {

struct LabelledData {
  std::vector<float> images;         // N×C×H×W, preprocessed
  std::vector<std::int64_t> shape;   // {N, C, H, W}
  std::vector<std::int64_t> labels;  // class index per image
  std::vector<std::string> classes;  // class names (categories) by index
  std::vector<std::string> ids;
};

// Loads `spec` (split: "" for all rows), preprocessed with preset `preprocess`. Labels are indices
// into `classes`; when `classes` is empty they are the sorted category names of the set.
// InputError if a category is not among `classes`.
LabelledData load_labelled(const std::string& spec, const std::string& split,
                           const std::string& preprocess, std::vector<std::string> classes = {});

}  // namespace lrm::model
