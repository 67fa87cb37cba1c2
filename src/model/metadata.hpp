#pragma once
// One home for what a model says about its outputs and inputs: the class names in output order
// and the preprocessing preset. A checkpoint written by `lrm train` records both; otherwise they
// come from the backbone, and the class names last from the stimulus set.
#include <string>
#include <vector>

#include "model/checkpoint.hpp"
#include "stimuli/stimulus_set.hpp"

namespace lrm::model {

// Keys of a suite checkpoint's meta record.
inline constexpr const char* kClassesKey = "classes";        // class names, tab-separated
inline constexpr const char* kPreprocessKey = "preprocess";  // preprocessing preset

// The order in which `lrm train` assigns outputs to categories: shorter names first, then
// alphabetically, so that digit names ("2" before "10") sort by value.
std::vector<std::string> training_class_order(std::vector<std::string> categories);

// Class names in output order for `model` applied to `set`: those the checkpoint records, else the
// backbone's (the MNIST models: digits 0–9) when they name every category of the set, else the
// set's distinct categories in training order. InputError if they are more than the model's
// outputs.
std::vector<std::string> class_names(const LoadedModel& model, const stimuli::StimulusSet& set);

// The preprocessing preset the model expects: the checkpoint's, else the backbone's (mnist or
// imagenet).
std::string preprocess_preset(const LoadedModel& model);
std::string backbone_preprocess(const std::string& backbone);

std::string join_class_names(const std::vector<std::string>& names);
std::vector<std::string> split_class_names(const std::string& text);

}  // namespace lrm::model
