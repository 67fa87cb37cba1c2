#pragma once
// An analysis definition (TOML): stages that are lrm commands, run in order into one run folder;
// their result files are merged into one results file.
#include <filesystem>
#include <string>
#include <vector>

namespace lrm::pipeline {

struct Stage {
  std::string name;
  std::vector<std::string> args;  // lrm arguments, {run} replaced by the run folder
  std::string output;             // file (or folder) whose completeness marks the stage done
  bool merge = true;              // copy the output's groups into the run's results file
  std::string merge_into = "/";   // group of the results file the output's groups go under
};

struct Analysis {
  std::string name;
  std::filesystem::path run_dir;
  std::string results = "results.h5";
  std::string report;  // folder (under run_dir) for `lrm report` on the results file; "" for none
  std::vector<Stage> stages;
  std::string text;  // the TOML as read, for provenance
};

// Reads and checks an analysis file; errors name the file and the offending key.
Analysis read_analysis(const std::filesystem::path& path);

struct RunOptions {
  bool force = false;
  std::vector<std::string> only;         // stage names to run (empty: all)
  std::vector<std::string> global_args;  // passed before each stage's args (--threads, --seed, ...)
  std::filesystem::path executable;      // the lrm binary
  std::filesystem::path config_path;     // exported as LRM_CONFIG_FILE for provenance
  bool quiet = false;
};

// Runs the stages (skipping complete ones unless forced) and writes the merged results file.
// Returns the path of the results file.
std::filesystem::path run_analysis(const Analysis& analysis, const RunOptions& options);

// Writes `results` from scratch from the outputs of `stages` that are HDF5 files: each output's
// groups go under the stage's merge_into group with their dimension scales attached, its
// provenance under /provenance/<stage>. Written as `<results>.partial` and renamed when complete.
void merge_results(const Analysis& analysis, const std::filesystem::path& results,
                   const std::vector<const Stage*>& stages);

// True when a stage's output is complete: an HDF5 file marked complete, or an existing
// non-HDF5 file or folder.
bool stage_output_complete(const std::filesystem::path& output);

}  // namespace lrm::pipeline
