#pragma once
// Runs the localizer over an activation file (README "Activations") and writes
// /localizer/<layer>/pass<k>/<target>/… (README "Localizer").
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "io/results.hpp"
#include "localizer/localizer.hpp"

namespace lrm::localizer {

struct FileOptions {
  Options analysis;
  std::vector<std::string> layers;  // empty: every layer in the file
  std::vector<int> passes;          // empty: every pass of each layer
  bool allow_partial = false;       // read an unfinished activation file's complete rows
};

struct SummaryRow {
  std::string layer;
  int pass = 0;
  std::string target;
  std::int64_t n_units = 0, n_selective = 0;
  std::int64_t n_nonfinite = 0, n_units_nonfinite = 0;  // of the layer and pass
};

// Writes `out` atomically (io::ResultFile); returns one row per layer, pass and target.
std::vector<SummaryRow> localize_file(const std::filesystem::path& activations,
                                      const std::filesystem::path& out, const FileOptions& options,
                                      io::Provenance provenance);

}  // namespace lrm::localizer
