#include "stats/steering_scores.hpp"

#include <cmath>
#include <numeric>

#include "common/error.hpp"
#include "stats/bootstrap.hpp"
#include "stats/ttest.hpp"

namespace lrm::stats {
namespace {

using Indices = std::vector<std::int64_t>;

// Appends a statistic's interval over `n` items: its estimate to `estimate`, low and high to
// `bounds`.
void add_interval(std::int64_t n, const std::function<double(const Indices&)>& statistic,
                  const BootstrapSettings& b, std::vector<double>& estimate,
                  std::vector<double>& bounds) {
  const auto ci = percentile_ci(n, statistic, b.resamples, b.seed, b.level);
  estimate.push_back(ci.estimate);
  bounds.insert(bounds.end(), {ci.low, ci.high});
}

// 1 where a trial's top-1 class is the class steered toward (N×C×R).
std::vector<double> outcomes(const ChallengeTrials& t) {
  const auto C = t.conditions, R = t.roles;
  std::vector<double> outcome(t.composites * C * R);
  for (std::int64_t n = 0; n < t.composites; ++n)
    for (std::int64_t r = 0; r < R; ++r)
      for (std::int64_t c = 0; c < C; ++c)
        outcome[(n * C + c) * R + r] = t.top1[(n * C + c) * R + r] == t.wanted[n * R + r] ? 1 : 0;
  return outcome;
}

// Hit and false-alarm rates, A′, A, d′ and c of condition c.
void score_condition(const ChallengeTrials& t, const std::vector<double>& outcome, std::int64_t c,
                     const BootstrapSettings& b, RateCorrection correction, ChallengeScores& s) {
  const auto N = t.composites, C = t.conditions, R = t.roles;
  const auto rate = [&](const Indices& roles, const Indices& idx) {
    double sum = 0;
    for (auto n : idx)
      for (auto r : roles) sum += outcome[(n * C + c) * R + r];
    return sum / (static_cast<double>(idx.size()) * roles.size());
  };
  Indices all(N);
  std::iota(all.begin(), all.end(), 0);
  if (s.hits()) {
    add_interval(
        N, [&](const Indices& idx) { return rate(s.target_roles, idx); }, b, s.hit_rate,
        s.hit_rate_ci);
    for (auto r : s.target_roles) s.hit_rate_by_target.push_back(rate({r}, all));
  }
  if (s.false_alarms())
    add_interval(
        N, [&](const Indices& idx) { return rate(s.absent_roles, idx); }, b, s.false_alarm_rate,
        s.false_alarm_rate_ci);
  if (!s.hits() || !s.false_alarms()) return;
  add_interval(
      N,
      [&](const Indices& idx) {
        return a_prime(rate(s.target_roles, idx), rate(s.absent_roles, idx));
      },
      b, s.a_prime, s.a_prime_ci);
  const double h = s.hit_rate.back(), f = s.false_alarm_rate.back();
  s.a_zhang_mueller.push_back(a_zhang_mueller(h, f));
  const auto n_signal = N * static_cast<std::int64_t>(s.target_roles.size());
  const auto n_noise = N * static_cast<std::int64_t>(s.absent_roles.size());
  const auto d =
      d_prime(std::llround(h * n_signal), n_signal, std::llround(f * n_noise), n_noise, correction);
  s.d_prime.push_back(d.d_prime);
  s.criterion.push_back(d.criterion);
}

}  // namespace

ChallengeScores score_challenge(const ChallengeTrials& t, const BootstrapSettings& b,
                                RateCorrection correction) {
  const auto N = t.composites, C = t.conditions, R = t.roles, Q = t.outputs;
  ChallengeScores s;
  for (std::int64_t r = 0; r < R; ++r) (t.absent[r] ? s.absent_roles : s.target_roles).push_back(r);
  const auto outcome = outcomes(t);
  for (std::int64_t c = 0; c < C; ++c) {
    score_condition(t, outcome, c, b, correction, s);
    for (std::int64_t r = 0; r < R; ++r)
      for (std::int64_t q = 0; q < Q; ++q) {
        const auto mean_of = [&](const Indices& idx) {
          double sum = 0;
          for (auto n : idx) sum += t.output[((n * C + c) * R + r) * Q + q];
          return sum / static_cast<double>(idx.size());
        };
        add_interval(N, mean_of, b, s.mean_output, s.mean_output_ci);
      }
  }
  return s;
}

AttentionScores score_attention(const AttentionTrials& trials, const BootstrapSettings& b) {
  const auto N = trials.blends;
  const auto& act = trials.activation;
  const auto mean_over = [](const Indices& idx, auto value) {
    double sum = 0;
    for (auto n : idx) sum += value(n);
    return sum / static_cast<double>(idx.size());
  };
  AttentionScores s;
  for (int t = 0; t < 2; ++t) {
    for (int k = 0; k < 2; ++k)
      add_interval(
          N,
          [&](const Indices& idx) {
            return mean_over(idx, [&](auto n) { return act[(n * 2 + t) * 2 + k]; });
          },
          b, s.table, s.table_ci);
    add_interval(
        N,
        [&](const Indices& idx) {
          return mean_over(idx, [&](auto n) { return trials.unsteered[n * 2 + t]; });
        },
        b, s.unsteered, s.unsteered_ci);
    if (s.table[t * 2] + s.table[t * 2 + 1] == 0)
      throw InputError("the " + trials.unit_labels[t] +
                       " are silent (mean activation 0) under both attended categories; the "
                       "attention modulation index is undefined");
    // Preferred = attending the units' own category (k == t).
    const auto preferred = [&](auto n) { return act[(n * 2 + t) * 2 + t]; };
    const auto other = [&](auto n) { return act[(n * 2 + t) * 2 + (1 - t)]; };
    add_interval(
        N,
        [&](const Indices& idx) {
          const double pref = mean_over(idx, preferred), oth = mean_over(idx, other);
          return pref + oth == 0 ? std::nan("") : (pref - oth) / (pref + oth);
        },
        b, s.modulation_index, s.modulation_index_ci);
    std::vector<double> a(N), o(N);
    for (std::int64_t n = 0; n < N; ++n) a[n] = preferred(n), o[n] = other(n);
    const auto paired = ttest_rel(a, o);
    s.t.push_back(paired.t);
    s.df.push_back(paired.df);
    s.p.push_back(paired.p);
  }
  return s;
}

}  // namespace lrm::stats
