// lrm steer: the composite-image steering challenge (hits, false alarms, CIs, A′; paper Fig. 7).
#include <cstdio>

#include "cli/command.hpp"
#include "cli/model_options.hpp"
#include "cli/deprecation.hpp"
#include "cli/stimulus_options.hpp"
#include "common/error.hpp"
#include "io/output_path.hpp"
#include "model/checkpoint.hpp"
#include "model/metadata.hpp"
#include "steering/challenge.hpp"

namespace lrm::cli {
namespace {

struct SteerArgs {
  steering::SteerOptions o;
  StimulusOptions stimuli;
  std::string composite = "overlay", correction = "log-linear";
  std::vector<std::string> types{"one-hot", "instance", "prototype", "discriminative"};
  std::vector<std::string> targets{"target1", "target2", "absent"};
  std::vector<std::string> strengths{"1", "2", "3", "4", "5"};
  std::vector<double> alphas;  // the deprecated --alphas
};

void print(const steering::SteerResult& r) {
  const auto& s = r.scores;
  std::printf("%-28s %-22s %-22s %s\n", "condition", "hit rate [CI]", "false alarms [CI]", "A'");
  for (std::size_t c = 0; c < r.conditions.size(); ++c) {
    char h[64] = "-", f[64] = "-", a[32] = "-";
    if (s.hits())
      std::snprintf(h, sizeof h, "%.3f [%.3f, %.3f]", s.hit_rate[c], s.hit_rate_ci[2 * c],
                    s.hit_rate_ci[2 * c + 1]);
    if (s.false_alarms())
      std::snprintf(f, sizeof f, "%.3f [%.3f, %.3f]", s.false_alarm_rate[c],
                    s.false_alarm_rate_ci[2 * c], s.false_alarm_rate_ci[2 * c + 1]);
    if (s.hits() && s.false_alarms()) std::snprintf(a, sizeof a, "%.3f", s.a_prime[c]);
    std::printf("%-28s %-22s %-22s %s\n", r.conditions[c].c_str(), h, f, a);
  }
  if (r.checked_naive)
    std::printf(
        "shared pass 0: %.3f s, naive: %.3f s, speed-up %.2fx; max |logit difference| %.3g, top-1 "
        "mismatches %lld\n",
        r.shared_seconds, r.naive_seconds, r.naive_seconds / r.shared_seconds, r.max_abs_difference,
        static_cast<long long>(r.top1_mismatches));
}

// The model's preset, except that ImageNet models see composites at 256×256 (imagenet-composite)
// instead of cropped to 224×224.
std::string composite_preset(const model::LoadedModel& model) {
  const auto preset = model::preprocess_preset(model);
  return preset == "imagenet" ? "imagenet-composite" : preset;
}

void run(SteerArgs& a, const CLI::App* cmd, const Globals& g) {
  note_deprecated(cmd, "--passes", "--passes N", "--num-passes N", g);
  note_deprecated(cmd, "--alphas", "--alphas", "--steer-strength", g);
  auto& o = a.o;
  o.seed = g.seed;
  o.triplets.seed = g.seed;
  o.composite = steering::composite_kind_names.parse(a.composite, "composite");
  o.correction = stats::rate_correction_names.parse(a.correction, "correction");
  o.types.clear();
  for (const auto& t : a.types) o.types.push_back(steering::vector_kind_names.parse(t, "types"));
  o.targets.clear();
  for (const auto& t : a.targets) o.targets.push_back(steering::role_names.parse(t, "targets"));
  if (cmd->count("--alphas") > 0) {
    o.alphas = a.alphas;
  } else {
    auto gains = steering::parse_gains(a.strengths);
    o.alphas = std::move(gains.positive);
    o.alphas_negative = std::move(gains.negative);
  }
  io::check_output_is_not_an_input(o.out, {a.stimuli.spec, o.weights, o.prototypes, o.vectors});
  auto model = model::load_model(o.model, o.weights, g.seed);
  auto set = a.stimuli.open();
  const auto result =
      steering::run_steer(model, *set, a.stimuli.for_model()(composite_preset(model)), o);
  if (!g.quiet) print(result);
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
  add_model_options(cmd, o.model);
  cmd->add_option("--weights", o.weights,
                  "Checkpoint (.pth or suite checkpoint); none: random weights from --seed");
  add_stimulus_options(cmd, a->stimuli, true, "");
  cmd->add_option("--out", o.out, "Results file (HDF5)")->required();
  cmd->add_option("--classes", o.classes,
                  "Class names in output order: 'a,b,c' or @file.txt (default: the model's class "
                  "names)");
  cmd->add_option("--composite", a->composite,
                  "Composite kind: " + steering::composite_kind_names.list())
      ->capture_default_str();
  cmd->add_option("--composites", o.triplets.count, "Number of composites (triplets)")
      ->capture_default_str();
  cmd->add_flag(
      "--unique-pairs", o.triplets.unique_pairs,
      "Drop composites whose unordered image pair was drawn before (overlays are symmetric)");
  cmd->add_option("--types", a->types,
                  "Steering vector types: " + steering::vector_kind_names.list())
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--steer-strength", a->strengths,
                  "Gains, one condition each: a (α > 0 multiplying σ− and σ+ of the steered "
                  "pathways) or a-:a+ (σ− by a-, σ+ by a+)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--alphas", a->alphas)->delimiter(',')->group("");  // deprecated
  cmd->add_option("--targets", a->targets, "Roles steered toward: " + steering::role_names.list())
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--source", o.source,
                  "Steered source layer (default: the model's last layer, its output)");
  cmd->add_option("--num-passes", o.passes, "Passes to run; the last one is read out")
      ->capture_default_str();
  add_deprecated_alias(cmd, "--passes", o.passes);
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
                  "Rates of 0 or 1 for d': " + stats::rate_correction_names.list())
      ->capture_default_str();
  cmd->add_flag(
      "--check-naive", o.check_naive,
      "Also run every condition through all passes; print the speed-up and the largest output "
      "difference");
  cmd->callback([a, cmd, &g] { run(*a, cmd, g); });
}

}  // namespace lrm::cli
