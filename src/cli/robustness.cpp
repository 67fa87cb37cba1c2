// lrm robustness: FGSM accuracy vs ε per pass, AUC and its change against a no-feedback baseline.
#include "cli/command.hpp"
#include "model/evaluation.hpp"

namespace lrm::cli {

void add_robustness_command(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("robustness", "FGSM robustness per pass (paper Fig. 2B-C)");
  auto o = std::make_shared<model::RobustnessOptions>();
  cmd->add_option("--weights", o->weights, "Checkpoints to attack")->required()->delimiter(',');
  cmd->add_option("--baseline", o->baseline, "No-feedback checkpoint: AUC % change is against it");
  cmd->add_option("--model", o->model, "Preset for checkpoints that do not record their architecture");
  cmd->add_option("--stimuli", o->stimuli, "Labelled stimulus set, e.g. stimuli/mnist.h5")->required();
  cmd->add_option("--split", o->split, "Rows of the set (/split value; empty: all)")->capture_default_str();
  cmd->add_option("--preprocess", o->preprocess, "Preprocessing preset (default: the one the model was trained with)");
  cmd->add_option("--epsilons", o->epsilons, "FGSM step sizes in [0,1] pixel units")->delimiter(',')->capture_default_str();
  cmd->add_option("--attack-pass", o->attack_pass, "Pass whose loss gives the gradient")->capture_default_str();
  cmd->add_option("--passes", o->passes, "Passes to score")->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "Images per batch")->capture_default_str();
  cmd->add_option("--out", o->out, "Output HDF5 file (/robustness/...)")->required();
  cmd->callback([o, &globals] {
    o->seed = globals.seed;
    model::robustness(*o);
  });
}

}  // namespace lrm::cli
