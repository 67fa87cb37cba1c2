#pragma once
// Scores of the steering experiments from their trials, apart from the model that ran them: the
// composite challenge (hit and false-alarm rates, A′, A, d′, c, mean outputs) and attention
// modulation (2×2 table, modulation index, paired t-test). Intervals are percentile bootstraps over
// composites; every interval of a run resamples with the same seed.
#include <cstdint>
#include <string>
#include <vector>

#include "stats/signal_detection.hpp"

namespace lrm::stats {

struct BootstrapSettings {
  std::int64_t resamples = 1000;
  std::uint64_t seed = 0;
  double level = 0.95;
};

// The composite challenge: N composites × C conditions × R roles steered toward (a role is one of
// the composite's two targets or its absent category), Q outputs kept per trial.
struct ChallengeTrials {
  std::int64_t composites = 0, conditions = 0, roles = 0, outputs = 0;
  std::vector<std::int64_t> top1;    // N×C×R: top-1 class of the read-out pass
  std::vector<std::int64_t> wanted;  // N×R: class of the category steered toward
  // R: whether the role is the absent category (false-alarm trials) or a present target (hits).
  std::vector<bool> absent;
  std::vector<float> output;  // N×C×R×Q
};

struct ChallengeScores {
  std::vector<std::int64_t> target_roles, absent_roles;  // roles of hit and false-alarm trials
  // Per condition; *_ci are condition × {low, high}; hit_rate_by_target is condition × target role.
  std::vector<double> hit_rate, hit_rate_ci, hit_rate_by_target;
  std::vector<double> false_alarm_rate, false_alarm_rate_ci;
  // With both kinds of trials: A′ with its interval, Zhang & Mueller's A, d′ and c.
  std::vector<double> a_prime, a_prime_ci, a_zhang_mueller, d_prime, criterion;
  std::vector<double> mean_output, mean_output_ci;  // C×R×Q (×{low, high})
  bool hits() const { return !target_roles.empty(); }
  bool false_alarms() const { return !absent_roles.empty(); }
};

// A trial counts as correct when its top-1 class is the class steered toward; a rate is the
// fraction of correct trials over composites and the roles of its kind. d′ and c use the rounded
// counts of the rates with `correction`.
ChallengeScores score_challenge(const ChallengeTrials& trials, const BootstrapSettings& bootstrap,
                                RateCorrection correction);

// Attention modulation: the mean activation of two unit types (the units selective for category A
// and for B) over N blends, steered toward A and toward B.
struct AttentionTrials {
  std::int64_t blends = 0;
  std::vector<double> activation;  // N×2×2: blend, unit type, attended category
  std::vector<double> unsteered;   // N×2: blend, unit type
  // The two unit types as errors name them (e.g. "3-units of layer features.9").
  std::vector<std::string> unit_labels;
};

struct AttentionScores {
  std::vector<double> table, table_ci;          // unit type × attended (×{low, high})
  std::vector<double> unsteered, unsteered_ci;  // unit type (×{low, high})
  // (attend-preferred − attend-other)/(attend-preferred + attend-other) per unit type.
  std::vector<double> modulation_index, modulation_index_ci;
  std::vector<double> t, df, p;  // paired t over blends, attend-preferred vs attend-other
};

// InputError when a unit type is silent (mean activation 0) under both attended categories: the
// modulation index is undefined.
AttentionScores score_attention(const AttentionTrials& trials, const BootstrapSettings& bootstrap);

}  // namespace lrm::stats
