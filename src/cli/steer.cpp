// lrm steer: the composite-image steering challenge (hits, false alarms, CIs, A′; paper Fig. 7).
#include "cli/command.hpp"
#include "cli/stimulus_options.hpp"
#include "common/error.hpp"
#include "model/checkpoint.hpp"
#include "steering/challenge.hpp"

namespace lrm::cli {
namespace {

struct SteerArgs {
  steering::SteerOptions o;
  StimulusOptions stimuli;
  std::string composite = "overlay", correction = "log-linear";
  std::vector<std::string> types{"one-hot", "instance", "prototype", "discriminative"};
  std::vector<std::string> targets{"target1", "target2", "absent"};
};

void run(SteerArgs& a, const Globals& g) {
  auto& o = a.o;
  o.seed = g.seed;
  o.triplets.seed = g.seed;
  o.composite = steering::parse_composite_kind(a.composite);
  o.correction = steering::parse_correction(a.correction);
  o.types.clear();
  for (const auto& t : a.types) o.types.push_back(steering::parse_vector_kind(t));
  o.targets.clear();
  for (const auto& t : a.targets) o.targets.push_back(steering::parse_role(t));
  auto model = model::load_model(o.model, o.weights, g.seed);
  if (a.stimuli.preprocess.empty())
    a.stimuli.preprocess = model.architecture.backbone == "mnist" ? "mnist" : "imagenet-composite";
  auto set = a.stimuli.open();
  steering::run_steer(model, *set, a.stimuli.preprocessing(), o);
}

}  // namespace

void add_steer_command(CLI::App& app, const Globals& g) {
  auto a = std::make_shared<SteerArgs>();
  auto& o = a->o;
  auto* cmd = app.add_subcommand(
      "steer",
      "Composite-image steering challenge: seeded triplets (two categories present, one absent), "
      "overlay or side-by-side composites, steering toward each target and the absent category "
      "with each vector type and gain; hit and false-alarm rates with bootstrap CIs, A', A, d' and "
      "mean outputs per condition. Pass 0 runs once per composite; the modulated passes of all "
      "conditions run in one batch");
  cmd->add_option(
      "--model", o.model,
      "Model preset (e.g. mnist-lrm, alexnet-lrm3); may be omitted for a suite checkpoint");
  cmd->add_option("--weights", o.weights,
                  "Checkpoint (.pth or suite checkpoint); none: random weights from --seed");
  add_stimulus_options(cmd, a->stimuli, true, "");
  cmd->add_option("--out", o.out, "Results file (HDF5)")->required();
  cmd->add_option("--classes", o.classes,
                  "Class names in output order: 'a,b,c' or @file.txt (default: the sorted "
                  "categories of the set)");
  cmd->add_option("--composite", a->composite, "Composite kind: overlay or side-by-side")
      ->capture_default_str();
  cmd->add_option("--composites", o.triplets.count, "Number of composites (triplets)")
      ->capture_default_str();
  cmd->add_flag(
      "--unique-pairs", o.triplets.unique_pairs,
      "Drop composites whose unordered image pair was drawn before (overlays are symmetric)");
  cmd->add_option("--types", a->types,
                  "Steering vector types: one-hot, instance, prototype, file, discriminative")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--alphas", o.alphas,
                  "Gains α (> 0) multiplying σ− and σ+ of the steered pathways")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--targets", a->targets, "Roles steered toward: target1, target2, absent")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--source", o.source,
                  "Steered source layer (default: the model's last layer, its output)");
  cmd->add_option("--passes", o.passes, "Passes to run; the last one is read out")
      ->capture_default_str();
  cmd->add_option("--vector-pass", o.vector_pass,
                  "Pass of instance vectors and of prototypes computed here")
      ->capture_default_str();
  cmd->add_option("--prototypes", o.prototypes,
                  "Prototypes written by lrm prototypes (default: computed from the stimulus set)");
  cmd->add_option(
      "--vectors", o.vectors,
      "Vectors for type 'file': file.h5:/dataset, category × units (rows labelled by a category "
      "coordinate, else in class order)");
  cmd->add_option("--batch-size", o.batch_size, "Composites per batch")->capture_default_str();
  cmd->add_option("--max-rows", o.max_rows,
                  "Most batch rows (condition × composite) per forward call")
      ->capture_default_str();
  cmd->add_option("--resamples", o.resamples, "Bootstrap resamples over composites")
      ->capture_default_str();
  cmd->add_option("--level", o.level, "Confidence level of the intervals")->capture_default_str();
  cmd->add_option("--correction", a->correction,
                  "Rates of 0 or 1 for d': log-linear, half-count, none")
      ->capture_default_str();
  cmd->add_flag(
      "--check-naive", o.check_naive,
      "Also run every condition through all passes; print the speed-up and the largest output "
      "difference");
  cmd->callback([a, &g] { run(*a, g); });
}

}  // namespace lrm::cli
