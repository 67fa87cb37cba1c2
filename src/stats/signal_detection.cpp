#include "stats/signal_detection.hpp"

#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <limits>
#include <string>

#include "common/error.hpp"

namespace lrm::stats {
namespace {

void check_rate(double rate, const char* name) {
  if (!(rate >= 0.0 && rate <= 1.0))
    throw InputError(std::string(name) + " " + std::to_string(rate) + " is not a rate in [0, 1]");
}

double probit(double p) {
  if (p <= 0.0) return -std::numeric_limits<double>::infinity();
  if (p >= 1.0) return std::numeric_limits<double>::infinity();
  return boost::math::quantile(boost::math::normal_distribution<double>(), p);
}

}  // namespace

double a_prime(double h, double f) {
  check_rate(h, "hit rate");
  check_rate(f, "false-alarm rate");
  if (h == f) return 0.5;
  if (h > f) return 0.5 + (h - f) * (1 + h - f) / (4 * h * (1 - f));
  return 0.5 - (f - h) * (1 + f - h) / (4 * f * (1 - h));
}

double a_zhang_mueller(double h, double f) {
  check_rate(h, "hit rate");
  check_rate(f, "false-alarm rate");
  if (h == f) return 0.5;
  if (h < f) return 1.0 - a_zhang_mueller(f, h);
  if (f <= 0.5 && 0.5 <= h) return 0.75 + (h - f) / 4 - f * (1 - h);
  if (h < 0.5) return 0.75 + (h - f) / 4 - f / (4 * h);
  return 0.75 + (h - f) / 4 - (1 - h) / (4 * (1 - f));
}

double corrected_rate(std::int64_t count, std::int64_t n, RateCorrection correction) {
  if (n < 1 || count < 0 || count > n)
    throw InputError("signal detection: " + std::to_string(count) + " of " + std::to_string(n) +
                     " trials is not a valid count");
  const double N = static_cast<double>(n), k = static_cast<double>(count);
  switch (correction) {
    case RateCorrection::log_linear:
      return (k + 0.5) / (N + 1.0);
    case RateCorrection::half_count:
      if (count == 0) return 1.0 / (2.0 * N);
      if (count == n) return 1.0 - 1.0 / (2.0 * N);
      return k / N;
    case RateCorrection::none:
      break;
  }
  return k / N;
}

Sensitivity d_prime(std::int64_t hits, std::int64_t n_signal, std::int64_t false_alarms,
                    std::int64_t n_noise, RateCorrection correction) {
  Sensitivity s;
  s.hit_rate = corrected_rate(hits, n_signal, correction);
  s.false_alarm_rate = corrected_rate(false_alarms, n_noise, correction);
  const double zh = probit(s.hit_rate), zf = probit(s.false_alarm_rate);
  s.d_prime = zh - zf;
  s.criterion = -(zh + zf) / 2.0;
  return s;
}

}  // namespace lrm::stats
