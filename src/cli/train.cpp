// lrm train: train an LRM network with the paper's multi-pass loss.
#include <cstdio>

#include "cli/command.hpp"
#include "cli/deprecation.hpp"
#include "cli/model_options.hpp"
#include "cli/stimulus_options.hpp"
#include "io/output_path.hpp"
#include "model/training.hpp"

namespace lrm::cli {
namespace {

void print_summary(const model::TrainOptions& o, const model::TrainSummary& s) {
  if (s.resumed_after > 0)
    std::printf("resumed %s after epoch %d\n", o.out.string().c_str(), s.resumed_after);
  else if (s.resumed_after == 0)
    std::printf("no checkpoint at %s; started from epoch 1\n", o.out.string().c_str());
  std::printf("trained %s for %d epochs in %.1f s: loss %.4f, train accuracy %.2f%%\n",
              o.model.c_str(), s.epochs_done, s.seconds, s.loss, 100 * s.accuracy);
}

}  // namespace

void add_train_command(CLI::App& app, const Globals& globals) {
  auto* cmd = app.add_subcommand(
      "train", "Train a model (loss: mean over passes of each pass's cross-entropy)");
  auto o = std::make_shared<model::TrainOptions>();
  auto stimuli = std::make_shared<StimulusOptions>();
  auto augment = std::make_shared<std::string>("none");
  stimuli->split = "train";
  add_model_options(cmd, o->model, /*num_classes=*/false)->required();
  add_stimulus_options(cmd, *stimuli, true, "model");
  cmd->add_option("--num-classes", o->num_classes,
                  "Outputs of the model's head (default: one per category of the set)");
  cmd->add_option("--epochs", o->epochs, "Epochs")->capture_default_str();
  cmd->add_option("--batch-size", o->batch_size, "Images per step")->capture_default_str();
  cmd->add_option("--num-passes", o->passes,
                  "Trained passes (0..N-1; pass 0 only for a model without feedback)")
      ->capture_default_str();
  add_deprecated_alias(cmd, "--passes", o->passes);
  cmd->add_option("--lr", o->lr, "Peak learning rate of the one-cycle schedule")
      ->capture_default_str();
  cmd->add_option("--warmup", o->warmup, "Fraction of steps rising to the peak")
      ->capture_default_str();
  cmd->add_option("--momentum", o->momentum, "SGD momentum")->capture_default_str();
  cmd->add_option("--weight-decay", o->weight_decay, "Weight decay")->capture_default_str();
  cmd->add_option("--label-smoothing", o->label_smoothing,
                  "Label smoothing (as in the released script)")
      ->capture_default_str();
  cmd->add_option("--augment", *augment,
                  "Augmentation: none, or imagenet (torchvision's training recipe: "
                  "RandomResizedCrop to the crop size and a horizontal flip, seeded)")
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Checkpoint, rewritten after every epoch")->required();
  cmd->add_flag("--resume", o->resume, "Continue from --out after its last completed epoch");
  cmd->callback([o, stimuli, augment, cmd, &globals] {
    note_deprecated(cmd, "--passes", "--passes N", "--num-passes N", globals);
    o->augmentation = stimuli::augmentation_names.parse(*augment, "augment");
    io::check_output_is_not_an_input(o->out, {stimuli->spec});
    o->seed = globals.seed;
    o->stimuli = stimuli->spec;
    o->preprocess = stimuli->preprocess;
    o->preprocessing = stimuli->for_model();
    if (!globals.quiet)
      o->on_epoch = [out = o->out](const model::EpochRecord& e) {
        std::printf("epoch %d/%d: loss %.4f, train accuracy (pass %d) %.2f%% -> %s\n", e.epoch,
                    e.epochs, e.loss, e.pass, 100 * e.accuracy, out.string().c_str());
        std::fflush(stdout);
      };
    auto set = stimuli->open();
    const auto summary = model::train(*o, *set);
    if (!globals.quiet) print_summary(*o, summary);
  });
}

}  // namespace lrm::cli
