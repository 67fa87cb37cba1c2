#pragma once
// The labels of a stimulus set for training and evaluation; the images themselves are streamed in
// batches (stimuli/batch_stream.hpp), so a set of any size fits in memory.
#include <cstdint>
#include <string>
#include <vector>

#include "stimuli/stimulus_set.hpp"

namespace lrm::model {

// The class index of each image of `set`: the index of its category in `classes` (the model's
// class names in output order). InputError if the set is empty or a category is not among
// `classes`.
std::vector<std::int64_t> class_labels(const stimuli::StimulusSet& set,
                                       const std::vector<std::string>& classes);

}  // namespace lrm::model
