// lrm evaluate: top-1/top-5 accuracy per pass on a labelled set.
#include "cli/command.hpp"
#include "cli/model_options.hpp"
#include "cli/deprecation.hpp"
#include "cli/evaluation_commands.hpp"
#include "cli/stimulus_options.hpp"
#include "model/evaluation.hpp"

namespace lrm::cli {

void add_evaluate_command(CLI::App& app, const Globals& globals) {
  auto* cmd =
      app.add_subcommand("evaluate", "Top-1/top-5 accuracy per pass of one or more checkpoints");
  auto o = std::make_shared<model::EvaluateOptions>();
  auto stimuli = std::make_shared<StimulusOptions>();
  stimuli->split = "test";
  cmd->add_option("--weights", o->weights,
                  "Checkpoints (suite checkpoints, or published ones with --model)")
      ->required()
      ->delimiter(',');
  add_model_options(cmd, o->model);
  add_stimulus_options(cmd, *stimuli, true, "model");
  add_run_options(cmd, *o, "Passes to run",
                  "Output HDF5 file (/evaluation/top1, top5: model × pass)");
  cmd->callback([o, stimuli, cmd, &globals] {
    auto set = evaluation_inputs(cmd, *o, *stimuli, globals);
    const auto r = model::evaluate(*o, *set);
    if (!globals.quiet)
      print_model_pass_table(r.models, r.passes,
                             {{"top-1", &r.top1, 100, 8}, {"top-5", &r.top5, 100, 8}});
  });
}

}  // namespace lrm::cli
