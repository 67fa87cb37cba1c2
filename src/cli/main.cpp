// lrm: the command-line entry point. Global options, then one subcommand per stage. Built twice:
// `lrm` without LibTorch runs the commands that need no model and hands the others (and --help) to
// `lrm-torch`, built with LRM_MODEL_COMMANDS, which runs them all.
#include <malloc.h>
#ifdef LRM_MODEL_COMMANDS
#include <torch/torch.h>
#endif

#include <cstdio>
#include <cstdlib>
#include <string>

#include "cli/command.hpp"
#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/progress.hpp"
#include "common/threads.hpp"
#include "io/results.hpp"

namespace lrm::cli {
namespace {

void add_commands(CLI::App& app, const cli::Globals& globals) {
  cli::add_stimuli_command(app, globals);
  cli::add_run_command(app, globals);
  cli::add_localize_command(app, globals);
  cli::add_report_command(app, globals);
  cli::add_compare_command(app, globals);
#ifdef LRM_MODEL_COMMANDS
  cli::add_model_command(app, globals);
  cli::add_extract_command(app, globals);
  cli::add_train_command(app, globals);
  cli::add_evaluate_command(app, globals);
  cli::add_robustness_command(app, globals);
  cli::add_prototypes_command(app, globals);
  cli::add_steer_command(app, globals);
  cli::add_attend_command(app, globals);
#endif
}

// "lrm: error: ", naming the stage when this process runs one for `lrm run`, so that the stage's
// one line says where the input was refused.
std::string error_prefix() {
  const char* stage = std::getenv("LRM_STAGE");
  return std::string("lrm: error: ") + (stage && *stage ? std::string(stage) + ": " : "");
}

// Runs the command line and turns each kind of failure into its one line and exit status: 2 bad
// input, 3 internal error, 130 interrupted, 1 anything else.
int run_command(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --help-all, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports a mistyped subcommand as a missing one; name the word instead.
    if (const auto unknown = cli::unknown_subcommand(app, argc, argv); !unknown.empty()) {
      std::fprintf(stderr, "%sunknown subcommand '%s' (see lrm --help)\n", error_prefix().c_str(),
                   unknown.c_str());
      return 2;
    }
    std::fprintf(stderr, "%s%s (see lrm --help)\n", error_prefix().c_str(), e.what());
    return 2;
  } catch (const SettingError& e) {
    // Settings are keyed by their option's long name.
    std::fprintf(stderr, "%s--%s: %s\n", error_prefix().c_str(), e.setting().c_str(),
                 e.problem().c_str());
    return 2;
  } catch (const InputError& e) {
    std::fprintf(stderr, "%s%s\n", error_prefix().c_str(), e.what());
    return 2;
  } catch (const ReportedError& e) {
    return e.status();
  } catch (const InternalError& e) {
    std::fprintf(stderr, "lrm: internal error: %s\n", e.what());
    return 3;
  } catch (const Interrupted&) {
    std::fprintf(stderr,
                 "\nlrm: interrupted; partial outputs were left as *.partial (use --resume where "
                 "offered)\n");
    return 130;
#ifdef LRM_MODEL_COMMANDS
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "%s%s\n", error_prefix().c_str(), e.what_without_backtrace());
    return 1;
#endif
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s%s\n", error_prefix().c_str(), e.what());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace lrm::cli

int main(int argc, char** argv) {
  using namespace lrm;
#ifdef __GLIBC__
  // Under glibc's default thresholds LibTorch's freed activation buffers go back to the kernel and
  // every batch faults them in again (about a third of the CPU time of the MNIST models).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  cli::Globals globals;
  CLI::App app{
      "lrm-suite: long-range modulatory feedback networks, steering, localizers and "
      "model-brain comparison"};
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", io::version_string());
  app.add_option("--threads", globals.threads,
                 "Threads for kernels and LibTorch (default: all cores)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", globals.seed,
                 "Random seed (runs are deterministic for a seed and thread count)");
  app.add_flag("--quiet", globals.quiet, "No progress bars, notes or result tables");
  app.parse_complete_callback([&] {
    set_threads(globals.threads);
#ifdef LRM_MODEL_COMMANDS
    torch::set_num_threads(threads());
#endif
    Progress::set_quiet(globals.quiet);
  });
  cli::add_commands(app, globals);
#ifndef LRM_MODEL_COMMANDS
  if (!cli::runs_here(app, argc, argv)) {
    const int status = cli::run_model_binary(argc, argv);
    if (status >= 0) return status;
  }
#endif

  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  io::set_command_line(command_line);
  install_interrupt_handlers();
  return cli::run_command(app, argc, argv);
}
