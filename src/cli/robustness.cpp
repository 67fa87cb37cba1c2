// lrm robustness: FGSM accuracy vs ε per pass, AUC and its change against a no-feedback baseline.
#include "cli/command.hpp"
#include "cli/model_options.hpp"
#include "cli/deprecation.hpp"
#include "cli/evaluation_commands.hpp"
#include "cli/stimulus_options.hpp"
#include "model/evaluation.hpp"

namespace lrm::cli {

void add_robustness_command(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("robustness", "FGSM robustness per pass (paper Fig. 2B-C)");
  auto o = std::make_shared<model::RobustnessOptions>();
  auto stimuli = std::make_shared<StimulusOptions>();
  stimuli->split = "test";
  cmd->add_option("--weights", o->weights, "Checkpoints to attack")->required()->delimiter(',');
  cmd->add_option("--baseline", o->baseline, "No-feedback checkpoint: AUC % change is against it");
  add_model_options(cmd, o->model);
  add_stimulus_options(cmd, *stimuli, true, "model");
  cmd->add_option("--epsilons", o->epsilons, "FGSM step sizes in [0,1] pixel units")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--attack-pass", o->attack_pass, "Pass whose loss gives the gradient")
      ->capture_default_str();
  add_run_options(cmd, *o, "Passes to score", "Output HDF5 file (/robustness/...)");
  cmd->callback([o, stimuli, cmd, &globals] {
    auto set = evaluation_inputs(cmd, *o, *stimuli, globals);
    const auto r = model::robustness(*o, *set);
    if (!globals.quiet)
      print_model_pass_table(r.models, r.passes,
                             {{"AUC", &r.auc, 100, 8}, {"vs base", &r.change, 1, 10}});
  });
}

}  // namespace lrm::cli
