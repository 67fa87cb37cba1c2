#pragma once
// A run's results file: provenance at the root, written under a temporary name and renamed into
// place by commit(), so an interrupted run never leaves a file that looks complete.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "io/h5.hpp"

namespace lrm::io {

struct Provenance {
  std::string command_line;
  std::string config_text;  // the analysis TOML a stage ran under, if any
  std::uint64_t seed = 0;
  std::map<std::string, std::string> inputs;  // e.g. model, weights_sha256, stimuli_checksum
};

// Fills version, git commit, start time and host; the config text comes from $LRM_CONFIG_FILE
// when `lrm run` started this process.
Provenance current_provenance(std::uint64_t seed);

// What a run of a model read, recorded so a result can be traced to the exact files.
struct ModelInputs {
  std::string model;         // the model's description (recorded as `model` when not empty)
  std::string architecture;  // recorded as `architecture` when not empty
  // Checkpoint files, hashed (empty paths skipped): one as `weights_sha256`, several as
  // `weights_sha256_<i>`.
  std::vector<std::string> weights;
  std::string stimuli;                       // the stimulus set's source (`stimuli`)
  std::string stimuli_checksum;              // recorded as `stimuli_checksum` when not empty
  std::map<std::string, std::string> extra;  // further inputs (e.g. prototypes, split)
};

// current_provenance(seed) with the inputs of a model run; empty fields are left out.
Provenance model_provenance(std::uint64_t seed, const ModelInputs& inputs);
void set_command_line(std::string command_line);
std::string version_string();

class ResultFile {
 public:
  // Creates `<path>.partial` (truncating an old one) with provenance attributes at the root.
  ResultFile(const std::filesystem::path& path, const Provenance& provenance);
  // Reopens `<path>.partial` left by an interrupted run, to continue it.
  static ResultFile resume(const std::filesystem::path& path);
  ResultFile(ResultFile&&) = default;
  ~ResultFile();

  h5::File& file() { return file_; }
  h5::Group root() const { return file_.root(); }
  const std::filesystem::path& final_path() const { return final_path_; }
  // Marks the file complete (root attribute complete = 1), closes it and renames it into place.
  void commit();

  static std::filesystem::path partial_path(const std::filesystem::path& path);

 private:
  ResultFile() = default;
  h5::File file_;
  std::filesystem::path final_path_;
  bool committed_ = false;
};

// True when `path` exists, is HDF5 and carries complete = 1 at its root.
bool is_complete(const std::filesystem::path& path);
// SHA-256 of a file's bytes, as hex, for provenance.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace lrm::io
