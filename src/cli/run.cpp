// lrm run: run an analysis definition (TOML) stage by stage into one run folder.
#include <cstdio>

#include "cli/command.hpp"
#include "common/error.hpp"
#include "common/threads.hpp"
#include "pipeline/analysis.hpp"

namespace lrm::cli {
namespace {

struct RunArgs {
  std::string analysis;
  bool force = false;
  std::vector<std::string> only;
  std::vector<std::string> set;  // name=value
};

pipeline::VariableOverrides overrides(const std::vector<std::string>& set) {
  pipeline::VariableOverrides out;
  for (const auto& item : set) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw SettingError("set", "expected name=value, got '" + item + "'");
    out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  return out;
}

void run(const RunArgs& r, const Globals& g) {
  const auto analysis = pipeline::read_analysis(r.analysis, overrides(r.set));
  pipeline::RunOptions o;
  o.force = r.force;
  o.only = r.only;
  o.enclosing = pipeline::enclosing_runs();
  if (!g.quiet)
    o.progress = [](const std::string& line) {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    };
  o.executable = std::filesystem::canonical("/proc/self/exe");
  o.config_path = std::filesystem::absolute(r.analysis);
  o.global_args = {"--threads", std::to_string(threads()), "--seed", std::to_string(g.seed)};
  if (g.quiet) o.global_args.push_back("--quiet");
  const auto results = pipeline::run_analysis(analysis, o);
  if (!analysis.report.empty())
    std::printf("report: %s\n", (analysis.run_dir / analysis.report / "index.html").c_str());
  std::printf("results: %s\n", results.c_str());
}

}  // namespace

void add_run_command(CLI::App& app, const Globals& g) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run",
                                 "Run an analysis (TOML): its stages in order into one run folder "
                                 "and one results file; complete stages are skipped");
  cmd->add_option("analysis", args->analysis, "Analysis definition, e.g. analyses/demo.toml")
      ->required();
  cmd->add_flag("--force", args->force, "Re-run stages whose outputs are complete");
  cmd->add_option("--only", args->only, "Run only these stages (comma-separated names)")
      ->delimiter(',');
  cmd->add_option("--set", args->set,
                  "A variable of the analysis's [vars] table for this run: name=value "
                  "(repeatable), e.g. --set imagenet_val=/data/imagenet/val");
  cmd->callback([args, &g] { run(*args, g); });
}

}  // namespace lrm::cli
