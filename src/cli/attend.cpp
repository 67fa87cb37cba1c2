// lrm attend: attention modulation of category-selective units (paper Fig. 6B).
#include <cstdio>

#include "cli/command.hpp"
#include "cli/model_options.hpp"
#include "cli/deprecation.hpp"
#include "cli/stimulus_options.hpp"
#include "common/error.hpp"
#include "io/output_path.hpp"
#include "model/checkpoint.hpp"
#include "model/metadata.hpp"
#include "steering/attention.hpp"
#include "steering/vectors.hpp"

namespace lrm::cli {
namespace {

struct AttendArgs {
  steering::AttendOptions o;
  StimulusOptions stimuli;
  std::vector<std::string> attend;
  std::string fdr = "by";
  std::string strength = "3";
};

void print(const steering::AttendResult& r) {
  const auto& s = r.scores;
  char gain[64];
  if (r.alpha_negative)
    std::snprintf(gain, sizeof gain, "%g:%g", *r.alpha_negative, r.alpha);
  else
    std::snprintf(gain, sizeof gain, "%g", r.alpha);
  std::printf("layer %s, pass %d, alpha %s, %lld blends\n", r.layer.c_str(), r.pass, gain,
              static_cast<long long>(r.blends));
  std::printf("%-16s %-8s %-26s %-26s %-10s %-22s %s\n", "units", "n",
              ("attend " + r.unit_types[0]).c_str(), ("attend " + r.unit_types[1]).c_str(),
              "unsteered", "modulation index [CI]", "paired t (p)");
  for (int t = 0; t < 2; ++t) {
    char a[64], b[64];
    std::snprintf(a, sizeof a, "%.4g [%.4g, %.4g]", s.table[t * 2], s.table_ci[t * 4],
                  s.table_ci[t * 4 + 1]);
    std::snprintf(b, sizeof b, "%.4g [%.4g, %.4g]", s.table[t * 2 + 1], s.table_ci[t * 4 + 2],
                  s.table_ci[t * 4 + 3]);
    std::printf("%-16s %-8lld %-26s %-26s %-10.4g %.3f [%.3f, %.3f]   t(%g) = %.3f (p = %.3g)\n",
                (r.unit_types[t] + "-units").c_str(), static_cast<long long>(r.n_units[t]), a, b,
                s.unsteered[t], s.modulation_index[t], s.modulation_index_ci[2 * t],
                s.modulation_index_ci[2 * t + 1], s.df[t], s.t[t], s.p[t]);
  }
}

void run(AttendArgs& a, const CLI::App* cmd, const Globals& g) {
  note_deprecated(cmd, "--passes", "--passes N", "--num-passes N", g);
  note_deprecated(cmd, "--alpha", "--alpha", "--steer-strength", g);
  auto& o = a.o;
  o.seed = g.seed;
  if (a.attend.size() != 2) throw SettingError("attend", "give two categories, A,B");
  o.category_a = a.attend[0];
  o.category_b = a.attend[1];
  o.fdr = stats::fdr_method_names.parse(a.fdr, "fdr");
  const auto [negative, positive] = steering::parse_gain(a.strength);
  o.alpha = positive;
  if (negative != positive) o.alpha_negative = negative;
  io::check_output_is_not_an_input(o.out, {a.stimuli.spec, o.weights, o.prototypes});
  auto model = model::load_model(o.model, o.weights, g.seed);
  auto set = a.stimuli.open();
  const auto result =
      steering::run_attend(model, *set, a.stimuli.for_model()(model::preprocess_preset(model)), o);
  if (!g.quiet) print(result);
}

}  // namespace

void add_attend_command(CLI::App& app, const Globals& g) {
  auto a = std::make_shared<AttendArgs>();
  auto& o = a->o;
  auto* cmd = app.add_subcommand(
      "attend",
      "Attention modulation of category-selective units: localise A- and B-selective units on "
      "single images, steer A+B blends toward A's and toward B's prototype, and compare the "
      "units' mean activation (2×2 table with CIs, modulation index, paired t-test)");
  add_model_options(cmd, o.model);
  cmd->add_option("--weights", o.weights, "Checkpoint; none: random weights from --seed");
  add_stimulus_options(cmd, a->stimuli, true, "");
  cmd->add_option("--attend", a->attend, "The two categories A,B (e.g. faces,places or 3,7)")
      ->delimiter(',')
      ->required();
  cmd->add_option("--layer", o.layer,
                  "Layer whose units are localised and read out (e.g. features.9)")
      ->required();
  cmd->add_option("--pass", o.pass, "Pass read out (default: the last)");
  cmd->add_option("--num-passes", o.passes, "Passes to run")->capture_default_str();
  add_deprecated_alias(cmd, "--passes", o.passes);
  cmd->add_option("--localize-pass", o.localize_pass, "Unsteered pass used by the localizer")
      ->capture_default_str();
  cmd->add_option("--steer-strength", a->strength,
                  "Steering gain: a (α > 0 multiplying σ− and σ+) or a-:a+ (σ− by a-, σ+ by a+)")
      ->capture_default_str();
  add_deprecated_alias(cmd, "--alpha", a->strength);
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
  cmd->add_option("--fdr", a->fdr, "FDR method of the localizer: " + stats::fdr_method_names.list())
      ->capture_default_str();
  cmd->add_option("--q", o.q, "FDR level of the localizer")->capture_default_str();
  cmd->add_option("--batch-size", o.batch_size, "Images or blends per batch")
      ->capture_default_str();
  cmd->add_option("--resamples", o.resamples, "Bootstrap resamples over blends")
      ->capture_default_str();
  cmd->add_option("--level", o.level, "Confidence level of the intervals")->capture_default_str();
  cmd->add_option("--out", o.out, "Results file (HDF5)")->required();
  cmd->callback([a, cmd, &g] { run(*a, cmd, g); });
}

}  // namespace lrm::cli
