#pragma once
// An analysis definition (TOML): stages that are lrm commands, run in order into one run folder;
// their result files are merged into one results file.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace lrm::pipeline {

struct Stage {
  std::string name;
  std::vector<std::string> args;  // lrm arguments, {run} replaced by the run folder
  std::string output;             // file (or folder) whose completeness marks the stage done
  bool merge = true;              // copy the output's groups into the run's results file
  std::string merge_into = "/";   // group of the results file the output's groups go under
  // Words of a launcher the stage's lrm command runs under (`launch = "mpirun -n 8"`), found on
  // PATH; empty: lrm runs directly.
  std::vector<std::string> launch;
};

struct Analysis {
  std::filesystem::path file;  // the analysis file as named on the command line
  std::string name;
  // The [vars] table (e.g. data paths), with the run's overrides; {name} in run_dir, report,
  // args and outputs stands for the value.
  std::vector<std::pair<std::string, std::string>> vars;
  std::filesystem::path run_dir;
  std::string results = "results.h5";
  std::string report;  // folder (under run_dir) for `lrm report` on the results file; "" for none
  std::vector<Stage> stages;
  std::string text;  // the TOML as read, for provenance
};

// A variable's value given for one run (`name=value`), replacing the file's.
using VariableOverrides = std::vector<std::pair<std::string, std::string>>;

// Reads and checks an analysis file and substitutes its variables; errors name the file and the
// offending key. An override of a variable the file does not declare is a "set" SettingError.
Analysis read_analysis(const std::filesystem::path& path, const VariableOverrides& overrides = {});

struct RunOptions {
  bool force = false;
  std::vector<std::string> only;         // stage names to run (empty: all)
  std::vector<std::string> global_args;  // passed before each stage's args (--threads, --seed, ...)
  std::filesystem::path executable;      // the lrm binary
  std::filesystem::path config_path;     // exported as LRM_CONFIG_FILE for provenance
  // Analysis files of the `lrm run`s this one runs inside, outermost first (enclosing_runs()).
  std::vector<std::filesystem::path> enclosing;
  // Receives the progress lines (a stage starts, is skipped, ends); null for none.
  std::function<void(const std::string& line)> progress;
};

// Runs the stages (skipping complete ones unless forced), writes the merged results file and, if
// the analysis asks for one, its report (run_dir/report/index.html), after check_no_recursion.
// Returns the path of the results file.
std::filesystem::path run_analysis(const Analysis& analysis, const RunOptions& options);

// Writes `results` from scratch from the outputs of `stages` that are HDF5 files: each output's
// groups go under the stage's merge_into group with their dimension scales attached, its
// provenance under /provenance/<stage>. Written as `<results>.partial` and renamed when complete.
void merge_results(const Analysis& analysis, const std::filesystem::path& results,
                   const std::vector<const Stage*>& stages);

// A stage may run `lrm run` on another analysis. The stages it spawns learn which analyses are
// running from this environment variable (absolute paths, one a line, outermost first), and at
// most kMaxRunDepth runs nest, so no analysis can make lrm spawn itself without bound.
inline constexpr const char* kRunStackVariable = "LRM_RUN_STACK";
inline constexpr std::size_t kMaxRunDepth = 8;

// The analysis files of the runs enclosing this process, read from kRunStackVariable.
std::vector<std::filesystem::path> enclosing_runs();

// Refuses (InputError naming the analysis file and the stage) before anything runs: an analysis
// already running in an enclosing run, one nested deeper than kMaxRunDepth, and one with a stage
// that runs `lrm run` on an analysis that leads back to a running one (itself, or A runs B runs
// A), found by reading the nested analysis files.
void check_no_recursion(const Analysis& analysis,
                        const std::vector<std::filesystem::path>& enclosing);

// True when a stage's output is complete: an HDF5 file marked complete, or an existing
// non-HDF5 file or folder.
bool stage_output_complete(const std::filesystem::path& output);

}  // namespace lrm::pipeline
