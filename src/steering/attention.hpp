#pragma once
// `lrm attend` (paper Fig. 6B): units selective for categories A and B are
// localised on single images; A+B blends are steered toward A's and toward B's prototype, and the
// mean activation of A-units and B-units in one layer and pass is compared across the attended
// category: the 2×2 table with bootstrap CIs, the attention modulation index
// (attend-preferred − attend-other)/(attend-preferred + attend-other) per unit type, and a paired
// t-test over blends. Results in /attention (README "Attention modulation").
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "model/checkpoint.hpp"
#include "stats/fdr.hpp"
#include "stats/steering_scores.hpp"
#include "stimuli/stimulus_set.hpp"

namespace lrm::steering {

struct AttendOptions {
  std::string model, weights;          // recorded in the provenance
  std::string category_a, category_b;  // the two attended categories
  std::string layer;                   // layer whose units are localised and read out
  int pass = -1;                       // pass read out (−1: the last)
  int passes = 2;
  int localize_pass = 0;                 // unsteered pass the localizer uses
  double alpha = 3.0;                    // gain of σ+ (and of σ− unless alpha_negative is set)
  std::optional<double> alpha_negative;  // gain of σ−
  std::string source;                    // steered layer; empty: the model's last layer
  int prototype_pass = 0;
  std::string prototypes;               // `lrm prototypes` file (empty: computed from the set)
  std::int64_t localizer_images = 100;  // per category, for the localizer
  std::int64_t composites = 100;        // A+B blends
  bool reuse_images = false;            // let blends reuse localizer images (small sets, fLoc)
  stats::FdrMethod fdr = stats::FdrMethod::by;
  double q = 0.05;
  int batch_size = 32;
  std::int64_t max_rows = 512;
  std::int64_t resamples = 1000;
  double level = 0.95;
  std::uint64_t seed = 0;
  std::filesystem::path out;
};

// What `lrm attend` reports besides its results file.
struct AttendResult {
  std::string layer;
  int pass = 0;  // the pass read out
  double alpha = 0;
  std::optional<double> alpha_negative;
  std::int64_t blends = 0;
  std::vector<std::string> unit_types;  // A, B
  std::vector<std::int64_t> n_units;    // selective units of each type
  stats::AttentionScores scores;
};

AttendResult run_attend(model::LoadedModel& model, const stimuli::StimulusSet& set,
                        const stimuli::Preprocess& preprocess, const AttendOptions& options);

}  // namespace lrm::steering
