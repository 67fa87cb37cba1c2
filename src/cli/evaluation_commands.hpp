#pragma once
// What lrm evaluate and lrm robustness share: their inputs and their model × pass tables.
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/deprecation.hpp"
#include "cli/stimulus_options.hpp"
#include "io/output_path.hpp"
#include "model/evaluation.hpp"

namespace lrm::cli {

struct PercentColumn {
  const char* name;
  const std::vector<double>* values;  // model × pass
  double scale;                       // 100 for fractions, 1 for values already in %
  int width;
};

inline void print_model_pass_table(const std::vector<std::string>& models, int passes,
                                   std::initializer_list<PercentColumn> columns) {
  std::printf("%-40s %5s", "model", "pass");
  for (const auto& c : columns) std::printf(" %*s", c.width, c.name);
  std::printf("\n");
  for (std::size_t m = 0; m < models.size(); ++m)
    for (int p = 0; p < passes; ++p) {
      std::printf("%-40s %5d", models[m].c_str(), p);
      for (const auto& c : columns)
        std::printf(" %*.2f%%", c.width - 1, c.scale * (*c.values)[m * passes + p]);
      std::printf("\n");
    }
}

// The pass count (and its old spelling), the batch size and the output file.
inline void add_run_options(CLI::App* cmd, model::EvaluateOptions& o, const std::string& passes,
                            const std::string& out) {
  cmd->add_option("--num-passes", o.passes, passes)->capture_default_str();
  add_deprecated_alias(cmd, "--passes", o.passes);
  cmd->add_option("--batch-size", o.batch_size, "Images per batch")->capture_default_str();
  cmd->add_option("--out", o.out, out)->required();
}

// After parsing: the deprecation note for --passes, the seed, the stimulus options in `o`, and the
// opened stimulus set.
inline std::unique_ptr<stimuli::StimulusSet> evaluation_inputs(const CLI::App* cmd,
                                                               model::EvaluateOptions& o,
                                                               const StimulusOptions& stimuli,
                                                               const Globals& globals) {
  note_deprecated(cmd, "--passes", "--passes N", "--num-passes N", globals);
  std::vector<std::string> inputs(o.weights.begin(), o.weights.end());
  inputs.push_back(stimuli.spec);
  io::check_output_is_not_an_input(o.out, inputs);
  o.seed = globals.seed;
  o.stimuli = stimuli.spec;
  o.split = stimuli.split;
  o.preprocessing = stimuli.for_model();
  return stimuli.open();
}

}  // namespace lrm::cli
