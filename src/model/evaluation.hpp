#pragma once
// `lrm evaluate` (top-1/top-5 per pass) and `lrm robustness` (FGSM accuracy vs ε per pass).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "stimuli/stimulus_set.hpp"

namespace lrm::model {

struct EvaluateOptions {
  std::vector<std::string> weights;  // one or more checkpoints (suite checkpoints, or with `model`)
  std::string model;                 // preset for published checkpoints; empty for suite ones
  std::string stimuli;               // the set's spec and split, recorded in the provenance
  std::string split;
  // Preprocessing given the model's own preset (recorded in a suite checkpoint, else its
  // backbone's); empty: that preset.
  std::function<stimuli::Preprocess(const std::string& model_preset)> preprocessing;
  int passes = 2;
  int batch_size = 250;
  std::uint64_t seed = 0;
  std::filesystem::path out;
};

struct Evaluation {
  std::vector<std::string> models;  // the checkpoints
  int passes = 0;
  std::vector<double> top1, top5;  // model × pass
  std::int64_t n_images = 0;
};

struct RobustnessOptions : EvaluateOptions {
  std::string baseline;  // the no-feedback model's checkpoint (AUC % change)
  std::vector<double> epsilons{0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3};  // in [0,1] pixel units
  int attack_pass = 1;  // the pass whose loss gives the FGSM gradient
};

struct Robustness {
  std::vector<std::string> models;  // the checkpoints, then the baseline if not among them
  std::vector<double> epsilons;
  int passes = 0;
  std::vector<double> accuracy;  // model × epsilon × pass
  std::vector<double> auc;       // model × pass: mean accuracy over the ε range
  std::vector<double> change;    // model × pass: AUC change against the baseline in % (NaN: none)
};

// Writes /evaluation/{top1,top5} (model × pass) and returns them.
Evaluation evaluate(const EvaluateOptions& options, const stimuli::StimulusSet& set);
// Writes /robustness/{accuracy (model × epsilon × pass), auc, auc_change_percent} and returns
// them.
Robustness robustness(const RobustnessOptions& options, const stimuli::StimulusSet& set);

// The AUC of accuracy over ε (trapezoids divided by the ε range: a mean accuracy; the accuracy
// itself for a single ε) and its change in % against model `baseline` (models.size(): none).
// Fills `r.auc` and `r.change` from `r.accuracy`.
void score_robustness(Robustness& r, std::size_t baseline);

}  // namespace lrm::model
