// lrm run: run an analysis definition (TOML) stage by stage into one run folder.
#include <cstdio>

#include "cli/command.hpp"
#include "common/threads.hpp"
#include "pipeline/analysis.hpp"

namespace lrm::cli {
namespace {

struct RunArgs {
  std::string analysis;
  bool force = false;
  std::vector<std::string> only;
};

void run(const RunArgs& r, const Globals& g) {
  const auto analysis = pipeline::read_analysis(r.analysis);
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
  cmd->callback([args, &g] { run(*args, g); });
}

}  // namespace lrm::cli
