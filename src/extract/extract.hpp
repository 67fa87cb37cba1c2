#pragma once
// Activation extraction: named layers' outputs (and destinations' pre-modulation output and F) in
// chosen passes and steering conditions for a stimulus set, streamed batch by batch into
// /activations/<layer>/pass<k>[/steer-<name>] (README "Activations"). A loader thread decodes the
// next batch and a writer thread compresses and writes the previous one while the model runs.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "extract/steering_conditions.hpp"
#include "stimuli/stimulus_set.hpp"

namespace lrm::extract {

struct ExtractOptions {
  std::string model;        // preset (may be empty for a suite checkpoint)
  std::string weights;      // checkpoint; empty: random weights from the seed
  std::string torchscript;  // a chain-style TorchScript model instead of a preset (no feedback)
  std::string stimuli;      // the stimulus set's spec, for provenance
  // Preprocessing given the model's own preset name (imagenet or mnist); empty: that preset.
  std::function<stimuli::Preprocess(const std::string& model_preset)> preprocessing;
  std::vector<std::string> layers;  // names, `all`, `<dest>:pre`, `<dest>:F`
  std::vector<int> passes{0};
  SteeringOptions steering;
  std::vector<std::string> conditions;  // --condition texts (several conditions in one file)
  // Reductions (README "Reductions"): a --reduce spec (empty: none); pca fits on
  // `pca_fit_set` (stored under /pca of the output) or uses the fits stored in `pca_from`.
  std::string reduce;
  const stimuli::StimulusSet* pca_fit_set = nullptr;
  std::string pca_fit;  // the fitting set's spec, for provenance
  std::filesystem::path pca_from;
  int batch_size = 32;
  bool resume = false;
  std::uint64_t seed = 0;
  std::filesystem::path out;
};

// Parses "0,1,2" (or "pass0,pass1"), sorted without duplicates; a SettingError of `setting`
// otherwise.
std::vector<int> parse_passes(const std::string& text, const std::string& setting);

// What a run did besides writing the file, for the caller to report.
struct ExtractSummary {
  bool already_complete = false;   // resume: the output was complete; nothing was done
  bool nothing_to_resume = false;  // resume: no partial file; started from the first stimulus
  int ranks = 1;                   // MPI ranks that shared the run (rank_parts.hpp)
  double join_seconds = 0;         // rank 0 of several: the time joining their parts took
};

ExtractSummary run_extraction(const ExtractOptions& options, const stimuli::StimulusSet& set);

}  // namespace lrm::extract
