// lrm evaluate: top-1/top-5 accuracy per pass on a labelled set.
#include "cli/command.hpp"
#include "model/evaluation.hpp"

namespace lrm::cli {

void add_evaluate_command(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand("evaluate", "Top-1/top-5 accuracy per pass of one or more checkpoints");
  auto o = std::make_shared<model::EvaluateOptions>();
  cmd->add_option("--weights", o->weights, "Checkpoints (suite checkpoints, or published ones with --model)")
      ->required()->delimiter(',');
  cmd->add_option("--model", o->model, "Preset for checkpoints that do not record their architecture");
  cmd->add_option("--stimuli", o->stimuli, "Labelled stimulus set, e.g. stimuli/mnist.h5")->required();
  cmd->add_option("--split", o->split, "Rows of the set (/split value; empty: all)")->capture_default_str();
  cmd->add_option("--preprocess", o->preprocess, "Preprocessing preset (default: the one the model was trained with)");
  cmd->add_option("--passes", o->passes, "Passes to run")->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "Images per batch")->capture_default_str();
  cmd->add_option("--out", o->out, "Output HDF5 file (/evaluation/top1, top5: model × pass)")->required();
  cmd->callback([o, &globals] {
    o->seed = globals.seed;
    model::evaluate(*o);
  });
}

}  // namespace lrm::cli
