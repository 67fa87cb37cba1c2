// lrm localize: category-selective units of every layer and pass in an activation file.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "io/activation_file.hpp"
#include "io/output_path.hpp"
#include "io/results.hpp"
#include "localizer/localize_file.hpp"

namespace lrm::cli {
namespace {

struct LocalizeOptions {
  std::string activations, target, out, test = "student", fdr = "by";
  std::vector<std::string> vs, layers, passes;
  double q = 0.05, ratio = 0.0;
  bool allow_partial = false;
};

// One note per layer and pass whose NaN/inf activations were left out of their units' tests.
void print_nonfinite_notes(const std::vector<localizer::SummaryRow>& rows) {
  std::string last;
  for (const auto& row : rows) {
    const std::string where = row.layer + " pass" + std::to_string(row.pass);
    if (where != last && row.n_nonfinite > 0)
      std::fprintf(stderr,
                   "lrm: note: localize %s: %lld NaN/inf activations in %lld units were left out "
                   "of those units' tests\n",
                   where.c_str(), static_cast<long long>(row.n_nonfinite),
                   static_cast<long long>(row.n_units_nonfinite));
    last = where;
  }
}

void print_counts(const std::vector<localizer::SummaryRow>& rows) {
  std::printf("%-24s %5s %-16s %10s %10s %9s\n", "layer", "pass", "target", "units", "selective",
              "fraction");
  for (const auto& row : rows)
    std::printf("%-24s %5d %-16s %10lld %10lld %8.3f%%\n", row.layer.c_str(), row.pass,
                row.target.c_str(), static_cast<long long>(row.n_units),
                static_cast<long long>(row.n_selective),
                100.0 * static_cast<double>(row.n_selective) / static_cast<double>(row.n_units));
}

void localize(const LocalizeOptions& o, const Globals& g) {
  io::check_output_is_not_an_input(o.out, {o.activations});
  localizer::FileOptions options;
  auto& a = options.analysis;
  if (o.target != "all") a.targets = {o.target};
  a.others = o.vs;
  a.test = localizer::ttest_kind_names.parse(o.test, "test");
  a.fdr = stats::fdr_method_names.parse(o.fdr, "fdr");
  a.q = o.q;
  if (o.ratio > 0.0) a.ratio = o.ratio;
  options.layers = o.layers;
  options.allow_partial = o.allow_partial;
  for (const auto& p : o.passes) options.passes.push_back(io::parse_pass_index(p, "passes"));

  const auto rows =
      localizer::localize_file(o.activations, o.out, options, io::current_provenance(g.seed));
  if (g.quiet) return;
  print_nonfinite_notes(rows);
  print_counts(rows);
  std::printf("wrote %s\n", o.out.c_str());
}

}  // namespace

void add_localize_command(CLI::App& app, const Globals& g) {
  auto o = std::make_shared<LocalizeOptions>();
  auto* cmd = app.add_subcommand(
      "localize",
      "Category-selective units, as fMRI localizers find them: for each layer, pass and target "
      "category, a unit is selective when its t-test against every other category survives FDR "
      "control over the layer's units with t > 0");
  cmd->add_option("--activations", o->activations, "Activation file written by lrm extract")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--target", o->target, "Target category, or `all` for every category in turn")
      ->required();
  cmd->add_option("--vs", o->vs, "Categories to compare against (default: every other category)")
      ->delimiter(',');
  cmd->add_option("--layers", o->layers, "Layers to analyse (default: every layer in the file)")
      ->delimiter(',');
  cmd->add_option("--passes", o->passes, "Passes to analyse, e.g. 0,1 (default: every pass)")
      ->delimiter(',');
  cmd->add_option("--test", o->test, "Two-sample t-test: student (pooled variance) or welch")
      ->check(CLI::IsMember(localizer::ttest_kind_names.canonical()))
      ->capture_default_str();
  cmd->add_option("--fdr", o->fdr,
                  "FDR control: by (Benjamini-Yekutieli) or bh (Benjamini-Hochberg)")
      ->check(CLI::IsMember(stats::fdr_method_names.canonical()))
      ->capture_default_str();
  cmd->add_option("--q", o->q, "FDR level")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--ratio", o->ratio,
                  "Also require mean(target) >= RATIO x mean(other) against every other category "
                  "(e.g. 2; off by default)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--allow-partial", o->allow_partial,
                "Accept an activation file not marked complete (an interrupted extract) and use "
                "only its complete rows; the result records how many");
  cmd->add_option("--out", o->out, "Result file (HDF5, written atomically)")->required();
  cmd->callback([o, &g] { localize(*o, g); });
}

}  // namespace lrm::cli
