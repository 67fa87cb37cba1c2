#pragma once
// `lrm steer`: the composite-image challenge (paper Fig. 7). For every composite and condition
// (pass 0, the unsteered modulated pass, each vector type × α toward target 1, target 2 and the
// absent category) the top-1 class of the last pass; hit and false-alarm rates with
// percentile-bootstrap CIs over composites, A′, A, d′ and c, and the mean outputs of the two
// targets and the absent category. Results in /steering (README "Steering").
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/names.hpp"
#include "model/checkpoint.hpp"
#include "stats/signal_detection.hpp"
#include "stats/steering_scores.hpp"
#include "steering/composites.hpp"
#include "steering/vectors.hpp"
#include "stimuli/stimulus_set.hpp"

namespace lrm::steering {

enum class Role { target1, target2, absent };
inline const Names<Role> role_names{
    {"target1", Role::target1}, {"target2", Role::target2}, {"absent", Role::absent}};

struct SteerOptions {
  std::string model, weights;  // as for load_model (recorded in the provenance)
  std::string classes;         // see parse_classes
  CompositeKind composite = CompositeKind::overlay;
  TripletOptions triplets;
  std::vector<VectorKind> types{VectorKind::one_hot, VectorKind::instance, VectorKind::prototype,
                                VectorKind::discriminative};
  std::vector<double> alphas{1, 2, 3, 4, 5};  // gains of σ+, one condition each
  std::vector<double> alphas_negative;        // gains of σ− (empty: those of σ+)
  std::vector<Role> targets{Role::target1, Role::target2, Role::absent};  // roles steered toward
  std::string source;      // steered layer; empty: the model's last layer (its output)
  int passes = 2;          // the last pass is read out
  int vector_pass = 0;     // pass of instance vectors and of prototypes computed here
  std::string prototypes;  // `lrm prototypes` file (empty: computed from the stimulus set)
  std::string vectors;     // category vectors for type `file`
  int batch_size = 32;     // composites per batch
  std::int64_t max_rows = 512;
  std::int64_t resamples = 1000;
  double level = 0.95;
  stats::RateCorrection correction = stats::RateCorrection::log_linear;
  bool check_naive = false;  // also run every condition through all passes; compare and time
  std::uint64_t seed = 0;
  std::filesystem::path out;
};

// What `lrm steer` reports besides its results file.
struct SteerResult {
  std::vector<std::string> conditions;  // condition names, in the order of the scores
  stats::ChallengeScores scores;
  bool checked_naive = false;  // the naive comparison below was run
  double shared_seconds = 0, naive_seconds = 0, max_abs_difference = 0;
  std::int64_t top1_mismatches = 0;
};

SteerResult run_steer(model::LoadedModel& model, const stimuli::StimulusSet& set,
                      const stimuli::Preprocess& preprocess, const SteerOptions& options);

}  // namespace lrm::steering
