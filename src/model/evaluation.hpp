#pragma once
// `lrm evaluate` (top-1/top-5 per pass) and `lrm robustness` (FGSM accuracy vs ε per pass).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lrm::model {

struct EvaluateOptions {
  std::vector<std::string> weights;  // one or more checkpoints (suite checkpoints, or with `model`)
  std::string model;                 // preset for published checkpoints; empty for suite ones
  std::string stimuli;
  std::string split = "test";
  std::string preprocess;
  int passes = 2;
  int batch_size = 250;
  std::uint64_t seed = 0;
  std::filesystem::path out;
};

struct RobustnessOptions : EvaluateOptions {
  std::string baseline;  // the no-feedback model's checkpoint (AUC % change)
  std::vector<double> epsilons{0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3};  // in [0,1] pixel units
  int attack_pass = 1;  // the pass whose loss gives the FGSM gradient
};

// Prints a table to stdout and writes /evaluation/{top1,top5} (model × pass).
void evaluate(const EvaluateOptions& options);
// Prints a table and writes /robustness/{accuracy (model × epsilon × pass), auc,
// auc_change_percent}.
void robustness(const RobustnessOptions& options);

}  // namespace lrm::model
