// lrm train: train an LRM network with the paper's multi-pass loss.
#include <cstdio>

#include "cli/command.hpp"
#include "model/training.hpp"

namespace lrm::cli {

void add_train_command(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand(
      "train", "Train a model (loss: mean over passes of each pass's cross-entropy)");
  auto o = std::make_shared<model::TrainOptions>();
  cmd->add_option("--model", o->model, "Preset, e.g. mnist-lrm, mnist-lrm-additive, mnist-ff")
      ->required();
  cmd->add_option("--stimuli", o->stimuli, "Labelled stimulus set, e.g. stimuli/mnist.h5")
      ->required();
  cmd->add_option("--split", o->split, "Rows of the set to train on (/split value; empty: all)")
      ->capture_default_str();
  cmd->add_option("--preprocess", o->preprocess, "Preprocessing preset (default: the model's)");
  cmd->add_option("--epochs", o->epochs, "Epochs")->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "Images per step")->capture_default_str();
  cmd->add_option("--passes", o->passes,
                  "Trained passes (0..passes-1; pass 0 only for a model without feedback)")
      ->capture_default_str();
  cmd->add_option("--lr", o->lr, "Peak learning rate of the one-cycle schedule")
      ->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "Fraction of steps rising to the peak")
      ->capture_default_str();
  cmd->add_option("--momentum", o->momentum, "SGD momentum")->capture_default_str();
  cmd->add_option("--weight-decay", o->weight_decay, "Weight decay")->capture_default_str();
  cmd->add_option("--label-smoothing", o->label_smoothing,
                  "Label smoothing (as in the released script)")
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Checkpoint, rewritten after every epoch")->required();
  cmd->add_flag("--resume", o->resume, "Continue from --out after its last completed epoch");
  cmd->callback([o, &globals] {
    o->seed = globals.seed;
    auto s = model::train(*o);
    if (!globals.quiet)
      std::printf("trained %s for %d epochs in %.1f s: loss %.4f, train accuracy %.2f%%\n",
                  o->model.c_str(), s.epochs_done, s.seconds, s.loss, 100 * s.accuracy);
  });
}

}  // namespace lrm::cli
