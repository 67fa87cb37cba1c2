#pragma once
// Shared by the subcommand files: each file adds one subcommand to the app and keeps its own
// options; the work itself lives in the library.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace lrm::cli {

struct Globals {
  int threads = 0;  // 0: all cores
  std::uint64_t seed = 0;
  bool quiet = false;
};

// The first word after the global options ("" if none).
std::string subcommand_word(int argc, char** argv);
// The first word after the global options when it names no subcommand ("" otherwise).
std::string unknown_subcommand(const CLI::App& app, int argc, char** argv);
// Whether `app` has the subcommand the command line names.
bool runs_here(const CLI::App& app, int argc, char** argv);
// Replaces this process with lrm-torch (next to this executable) on the same arguments. Returns
// only if that fails (2, after an error naming the command) or when the command line is answered
// here (-1): no subcommand and no --help (--version, errors), or --help without lrm-torch.
int run_model_binary(int argc, char** argv);

// Each subcommand file defines one of these.
void add_stimuli_command(CLI::App& app, const Globals& globals);
void add_run_command(CLI::App& app, const Globals& globals);
void add_localize_command(CLI::App& app, const Globals& globals);
void add_report_command(CLI::App& app, const Globals& globals);
void add_compare_command(CLI::App& app, const Globals& globals);
void add_model_command(CLI::App& app, const Globals& globals);
void add_extract_command(CLI::App& app, const Globals& globals);
void add_train_command(CLI::App& app, const Globals& globals);
void add_evaluate_command(CLI::App& app, const Globals& globals);
void add_robustness_command(CLI::App& app, const Globals& globals);
void add_prototypes_command(CLI::App& app, const Globals& globals);
void add_steer_command(CLI::App& app, const Globals& globals);
void add_attend_command(CLI::App& app, const Globals& globals);

}  // namespace lrm::cli
