#pragma once
// Signal detection indices of steering performance. A hit is a steered pass toward a category
// present in the composite whose top-1 class is that category; a false alarm is one toward the
// absent category whose top-1 class is the absent one.
#include <cstdint>

#include "common/names.hpp"

namespace lrm::stats {

// A′ (Pollack & Norman, Grier's formula) from hit rate H and false-alarm rate F.
double a_prime(double hit_rate, double false_alarm_rate);
// A (Zhang & Mueller 2005), the corrected non-parametric sensitivity.
double a_zhang_mueller(double hit_rate, double false_alarm_rate);

// How rates of 0 or 1 are kept finite for Φ⁻¹: none (they give ±inf), log-linear (Hautus 1995:
// (count + .5)/(N + 1) for every rate) or 1/(2N) (Macmillan & Kaplan: only 0 → 1/(2N), 1 → 1 −
// 1/(2N)).
enum class RateCorrection { none, log_linear, half_count };
inline const Names<RateCorrection> rate_correction_names{{"log-linear", RateCorrection::log_linear},
                                                         {"half-count", RateCorrection::half_count},
                                                         {"none", RateCorrection::none}};

double corrected_rate(std::int64_t count, std::int64_t n, RateCorrection correction);

struct Sensitivity {
  double hit_rate, false_alarm_rate;  // after the correction
  double d_prime;                     // Φ⁻¹(H) − Φ⁻¹(F)
  double criterion;                   // c = −(Φ⁻¹(H) + Φ⁻¹(F))/2
};

Sensitivity d_prime(std::int64_t hits, std::int64_t n_signal, std::int64_t false_alarms,
                    std::int64_t n_noise, RateCorrection correction);

}  // namespace lrm::stats
