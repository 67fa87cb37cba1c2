// lrm attend: attention modulation of category-selective units (paper Fig. 6B).
#include "cli/command.hpp"
#include "cli/stimulus_options.hpp"
#include "common/error.hpp"
#include "model/checkpoint.hpp"
#include "steering/attention.hpp"

namespace lrm::cli {
namespace {

struct AttendArgs {
  steering::AttendOptions o;
  StimulusOptions stimuli;
  std::vector<std::string> attend;
  std::string fdr = "by";
};

void run(AttendArgs& a, const Globals& g) {
  auto& o = a.o;
  o.seed = g.seed;
  if (a.attend.size() != 2) throw InputError("--attend: give two categories, A,B");
  o.category_a = a.attend[0];
  o.category_b = a.attend[1];
  if (a.fdr != "by" && a.fdr != "bh")
    throw InputError("--fdr: unknown method '" + a.fdr + "'; valid: by, bh");
  o.fdr = a.fdr == "by" ? stats::FdrMethod::by : stats::FdrMethod::bh;
  auto model = model::load_model(o.model, o.weights, g.seed);
  if (a.stimuli.preprocess.empty())
    a.stimuli.preprocess = model.architecture.backbone == "mnist" ? "mnist" : "imagenet";
  auto set = a.stimuli.open();
  steering::run_attend(model, *set, a.stimuli.preprocessing(), o);
}

}  // namespace

void add_attend_command(CLI::App& app, const Globals& g) {
  auto a = std::make_shared<AttendArgs>();
  auto& o = a->o;
  auto* cmd = app.add_subcommand(
      "attend",
      "Attention modulation of category-selective units: localise A- and B-selective units on "
      "single "
      "images, steer A+B blends toward A's and toward B's prototype, and compare the units' mean "
      "activation (2×2 table with CIs, modulation index, paired t-test)");
  cmd->add_option("--model", o.model, "Model preset; may be omitted for a suite checkpoint");
  cmd->add_option("--weights", o.weights, "Checkpoint; none: random weights from --seed");
  add_stimulus_options(cmd, a->stimuli, true, "");
  cmd->add_option("--attend", a->attend, "The two categories A,B (e.g. faces,places or 3,7)")
      ->delimiter(',')
      ->required();
  cmd->add_option("--layer", o.layer,
                  "Layer whose units are localised and read out (e.g. features.9)")
      ->required();
  cmd->add_option("--pass", o.pass, "Pass read out (default: the last)");
  cmd->add_option("--passes", o.passes, "Passes to run")->capture_default_str();
  cmd->add_option("--localize-pass", o.localize_pass, "Unsteered pass used by the localizer")
      ->capture_default_str();
  cmd->add_option("--alpha", o.alpha, "Steering gain α (> 0)")->capture_default_str();
  cmd->add_option("--source", o.source, "Steered source layer (default: the model's last layer)");
  cmd->add_option("--prototype-pass", o.prototype_pass, "Pass of the prototypes computed here")
      ->capture_default_str();
  cmd->add_option("--prototypes", o.prototypes,
                  "Prototypes written by lrm prototypes (default: computed here)");
  cmd->add_option("--localizer-images", o.localizer_images, "Images per category for the localizer")
      ->capture_default_str();
  cmd->add_option("--composites", o.composites, "A+B blends (each A image with one B image)")
      ->capture_default_str();
  cmd->add_flag("--reuse-images", o.reuse_images,
                "Let blends use the localizer's images (small sets)");
  cmd->add_option("--fdr", a->fdr, "FDR method of the localizer: by or bh")->capture_default_str();
  cmd->add_option("--q", o.q, "FDR level of the localizer")->capture_default_str();
  cmd->add_option("--batch-size", o.batch_size, "Images or blends per batch")
      ->capture_default_str();
  cmd->add_option("--resamples", o.resamples, "Bootstrap resamples over blends")
      ->capture_default_str();
  cmd->add_option("--level", o.level, "Confidence level of the intervals")->capture_default_str();
  cmd->add_option("--out", o.out, "Results file (HDF5)")->required();
  cmd->callback([a, &g] { run(*a, g); });
}

}  // namespace lrm::cli
