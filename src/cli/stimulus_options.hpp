#pragma once
// The stimulus options every command that reads images shares (--stimuli, --preprocess, ...).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "stimuli/stimulus_set.hpp"

namespace lrm::cli {

struct StimulusOptions {
  std::string spec;
  std::string category_map;
  bool skip_bad = false;
  std::string split;
  std::vector<std::string> categories;
  std::string indices;
  std::string preprocess = "imagenet";
  int resize = -1, crop = -1;  // -1: the preset's
  std::vector<float> mean, std;

  std::unique_ptr<stimuli::StimulusSet> open() const;
  stimuli::Preprocess preprocessing() const;
  // The preprocessing given the model's own preset: --preprocess unless it is "model" (or
  // empty), with the size and normalisation options applied.
  std::function<stimuli::Preprocess(const std::string& model_preset)> for_model() const;
};

// Adds --stimuli (required unless `required` is false) and the preprocessing options.
void add_stimulus_options(CLI::App* cmd, StimulusOptions& o, bool required = true,
                          const std::string& default_preset = "imagenet");

}  // namespace lrm::cli
