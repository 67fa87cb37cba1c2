// lrm: the command-line entry point. Global options, then one subcommand per stage. Built twice:
// `lrm` without LibTorch runs the commands that need no model and hands the others (and --help) to
// `lrm-torch`, built with LRM_MODEL_COMMANDS, which runs them all.
#include <malloc.h>
#ifdef LRM_MODEL_COMMANDS
#include <torch/torch.h>

#include "model/device.hpp"
#endif

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "cli/command.hpp"
#include "common/error.hpp"
#include "common/interrupt.hpp"
#include "common/mpi.hpp"
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

// Prints a failure's one line and returns its status; in an MPI job the failing rank's line ends
// the whole job with that status (every rank may be waiting for it in a collective).
int report(int status, const std::string& line) {
  if (!mpi::active()) {
    std::fprintf(stderr, "%s\n", line.c_str());
    return status;
  }
  // A failure every rank meets (input all ranks read) is then printed by rank 0 alone: its abort
  // ends this rank during the pause.
  if (mpi::rank() != 0) std::this_thread::sleep_for(std::chrono::seconds(1));
  mpi::abort_job(status, mpi::with_lock_hint(line) + " [MPI rank " + std::to_string(mpi::rank()) +
                             " of " + std::to_string(mpi::size()) + "]");
}

// Runs the command line and turns each kind of failure into its one line and exit status: 2 bad
// input, 3 internal error, 130 interrupted, 1 anything else.
int run_command(CLI::App& app, int argc, char** argv) {
  try {
    mpi::check_same_everywhere("the options or input files", mpi::describe_inputs(argc, argv));
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --help-all, --version
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Every rank parses the same command line: rank 0 alone says what is wrong with it.
    if (mpi::rank() != 0) mpi::abort_job_quietly_after_rank0(2);
    // CLI11 reports a mistyped subcommand as a missing one; name the word instead.
    if (const auto unknown = cli::unknown_subcommand(app, argc, argv); !unknown.empty())
      return report(2, error_prefix() + "unknown subcommand '" + unknown + "' (see lrm --help)");
    return report(2, error_prefix() + e.what() + " (see lrm --help)");
  } catch (const SettingError& e) {
    // Settings are keyed by their option's long name.
    return report(2, error_prefix() + "--" + e.setting() + ": " + e.problem());
  } catch (const InputError& e) {
    return report(2, error_prefix() + e.what());
  } catch (const ReportedError& e) {
    if (mpi::active()) mpi::abort_job(e.status(), "");
    return e.status();
  } catch (const InternalError& e) {
    return report(3, std::string("lrm: internal error: ") + e.what());
  } catch (const Interrupted&) {
    // Under mpirun a signal is how the launcher ends the other ranks once one has failed (or the
    // user stopped the job): the failing rank's line, or mpirun's own, is the one to read.
    if (mpi::active()) mpi::abort_job(130, "");
    return report(130,
                  "\nlrm: interrupted; partial outputs were left as *.partial (use --resume where "
                  "offered)");
#ifdef LRM_MODEL_COMMANDS
  } catch (const c10::Error& e) {
    return report(1, error_prefix() + e.what_without_backtrace());
#endif
  } catch (const std::exception& e) {
    return report(1, error_prefix() + e.what());
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
                 "Threads for kernels and LibTorch (default: all cores, shared among the MPI ranks "
                 "of a node)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", globals.seed,
                 "Random seed (runs are deterministic for a seed and thread count)");
  app.add_flag("--quiet", globals.quiet, "No progress bars, notes or result tables");
  std::string device = "auto", precision = "fp32";
  app.add_option("--device", device,
                 "Where models run: cpu, cuda, cuda:N or auto (CUDA when this build has it and a "
                 "GPU is visible, else cpu)")
      ->capture_default_str();
  app.add_option("--precision", precision,
                 "Model arithmetic: fp32, tf32 (CUDA products in TF32) or bf16 (autocast)")
      ->capture_default_str();
  app.parse_complete_callback([&] {
    set_threads(globals.threads);
#ifdef LRM_MODEL_COMMANDS
    torch::set_num_threads(threads());
    model::set_compute(device, precision);
#endif
    Progress::set_quiet(globals.quiet || mpi::rank() != 0);
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
  // Under mpirun only: a plain `lrm` never starts MPI.
  mpi::init(argc, argv);
  // Rank 0 prints the results; the other ranks' copies would only repeat or garble them.
  if (mpi::rank() != 0 && !std::freopen("/dev/null", "w", stdout)) return 3;
  const int status = cli::run_command(app, argc, argv);
  mpi::finalize();
  if (status == 130) {
    // Interrupted: every output was closed as the exception unwound (HDF5's exit handler is off,
    // see io/h5.cpp), so the libraries' exit-time teardown is skipped: LibTorch deregistering its
    // operators took 0.5–1.7 s on a loaded machine, most of the 2 s a Ctrl-C may take.
    std::fflush(nullptr);
    std::_Exit(status);
  }
  return status;
}
