#pragma once
// Activation extraction: named layers' outputs in chosen passes for a stimulus set, streamed batch
// by batch into /activations/<layer>/pass<k> (README "Activations").
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lrm::extract {

struct SteeringOptions {
  std::string source;       // empty: no steering
  std::string vector_spec;  // file.h5:/dataset holding 1×D, D, or N×D (one row per stimulus)
  double strength_neg = 1.0, strength_pos = 1.0;
  double mix = 1.0;
  bool first_pass = false;
};

struct ExtractOptions {
  std::string model;       // preset (may be empty for a suite checkpoint)
  std::string weights;     // checkpoint; empty: random weights from the seed
  std::string stimuli;     // stimulus set spec (see stimuli::open_stimulus_set)
  std::string preprocess;  // preset name; empty: the model's own (imagenet or mnist)
  std::vector<std::string> layers;
  std::vector<int> passes{0};
  SteeringOptions steering;
  int batch_size = 32;
  std::uint64_t seed = 0;
  std::filesystem::path out;
};

// Parses "3" (both gains) or "2,3" (negative, positive gain); InputError naming `option` otherwise.
std::pair<double, double> parse_strength(const std::string& text, const std::string& option);
// Parses "0,1,2"; InputError naming `option` for anything else.
std::vector<int> parse_passes(const std::string& text, const std::string& option);

void run_extraction(const ExtractOptions& options);

}  // namespace lrm::extract
