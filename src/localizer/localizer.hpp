#pragma once
// The category localizer of fMRI studies applied to model units: a unit is
// selective for target category T when, against every other category O, its T-vs-O t-test survives
// FDR control over all units of the layer and t > 0.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/huge_pages.hpp"
#include "common/names.hpp"
#include "stats/fdr.hpp"
#include "stats/ttest.hpp"

namespace lrm::localizer {

inline const Names<stats::TTestKind> ttest_kind_names{{"student", stats::TTestKind::student},
                                                      {"welch", stats::TTestKind::welch}};

struct Options {
  std::vector<std::string> targets;  // empty: every category
  std::vector<std::string> others;   // empty: every category but the target
  stats::TTestKind test = stats::TTestKind::student;
  stats::FdrMethod fdr = stats::FdrMethod::by;
  double q = 0.05;
  // Ratio criterion on top of the t-tests: mean(T) > 0 and mean(T) ≥ ratio·mean(O) against every O
  // (for non-negative, post-ReLU activations this is mean(T)/mean(O) ≥ ratio).
  std::optional<double> ratio;
};

struct TargetResult {
  std::string target;
  std::vector<std::string> others;  // the comparison coordinate
  std::int64_t n_units = 0, n_images = 0;
  HugePageVector<double> t;               // (comparison, unit); positive: target above the other
  HugePageVector<double> p_adjusted;      // (comparison, unit); NaN where t is undefined
  HugePageVector<std::uint8_t> rejected;  // (comparison, unit); FDR rejection, either sign of t
  HugePageVector<double> ratio;           // (comparison, unit) mean(T)/mean(O), with Options::ratio
  std::vector<std::uint8_t> selective;    // (unit)
  HugePageVector<double> mean_t, mean_p_adjusted;  // (unit), over comparisons
  std::vector<std::int64_t> n_positive_rejected;   // (comparison)
  std::vector<std::int64_t> n_undefined;           // (comparison) units with NaN t
  std::int64_t n_selective = 0;        // the final mask (ratio criterion included when asked)
  std::int64_t n_selective_ttest = 0;  // the t-test criterion alone
};

struct LayerResult {
  std::vector<std::string> categories;  // sorted
  std::vector<std::int64_t> n_images;   // per category
  std::vector<std::int64_t> nonfinite;  // (unit) NaN/inf activations left out of the unit's tests
  std::int64_t n_nonfinite = 0, n_units_nonfinite = 0;
  std::vector<TargetResult> targets;
};

// The categories of a layer's stimuli and the comparisons to run, checked: every target and other
// category exists and every category involved has at least 2 images.
struct Design {
  std::vector<std::string> categories;  // sorted
  std::vector<std::int64_t> n_images;   // per category
  std::vector<int> group;               // per stimulus: its category, −1 when not involved
  std::vector<std::pair<int, std::vector<int>>> comparisons;  // target, the categories it faces
};
Design make_design(const std::vector<std::string>& category, const Options& options,
                   const std::string& what);

// Runs the tests and FDR from the moments of the design's groups and hands each target's result to
// `sink` (its buffers are reused for the next target). Unordered pairs run in parallel, and `sink`
// runs on the calling thread while the other threads test the pairs of later targets.
void localize_moments(const stats::GroupMoments& moments, const Design& design,
                      const Options& options, const std::function<void(const TargetResult&)>& sink);

// `activations` is stimuli × units, row-major; `category` names each stimulus's category; `what`
// names the input (file and layer) in error messages.
LayerResult localize(const float* activations, std::int64_t n_stimuli, std::int64_t n_units,
                     const std::vector<std::string>& category, const Options& options,
                     const std::string& what);

}  // namespace lrm::localizer
