#include <gtest/gtest.h>

#include <cmath>

#include "common/error.hpp"
#include "stats/signal_detection.hpp"

using namespace lrm::stats;

TEST(StatsSignalDetection, APrimeAndZhangMuellerReferenceValues) {
  struct Case {
    double h, f, a_prime, a;
  };
  for (const auto& c :
       {Case{.8, .2, .875, .86}, Case{.8, .6, .6875, .675}, Case{.6, .8, .3125, .325},
        Case{.3, .1, 0.7222222222222222, 0.7166666666666667}}) {
    EXPECT_NEAR(a_prime(c.h, c.f), c.a_prime, 1e-12) << c.h << "," << c.f;
    EXPECT_NEAR(a_zhang_mueller(c.h, c.f), c.a, 1e-12) << c.h << "," << c.f;
  }
  EXPECT_EQ(a_prime(.4, .4), 0.5);
  EXPECT_EQ(a_zhang_mueller(.4, .4), 0.5);
  EXPECT_THROW(a_prime(1.2, .1), lrm::InputError);
}

TEST(StatsSignalDetection, DPrimeCorrections) {
  const auto log_linear = d_prime(20, 20, 0, 20, RateCorrection::log_linear);
  EXPECT_NEAR(log_linear.d_prime, 3.9615047932945577, 1e-13);
  EXPECT_NEAR(log_linear.criterion, 0.0, 1e-13);
  const auto half = d_prime(20, 20, 0, 20, RateCorrection::half_count);
  EXPECT_NEAR(half.d_prime, 3.9199279690801085, 1e-13);
  EXPECT_DOUBLE_EQ(half.hit_rate, 0.975);
  // Without correction the rates stay 1 and 0 and d′ is infinite.
  EXPECT_TRUE(std::isinf(d_prime(20, 20, 0, 20, RateCorrection::none).d_prime));
  // c is negative for a liberal observer: H = .9, F = .5 → c = −Φ⁻¹(.9)/2.
  EXPECT_NEAR(d_prime(9, 10, 5, 10, RateCorrection::none).criterion, -0.6407757827723, 1e-12);
  EXPECT_THROW(d_prime(21, 20, 0, 20, RateCorrection::none), lrm::InputError);
}

TEST(StatsSignalDetection, CorrectionNames) {
  EXPECT_EQ(rate_correction_names.parse("half-count", "correction"), RateCorrection::half_count);
  EXPECT_EQ(rate_correction_names.name(RateCorrection::log_linear), "log-linear");
  EXPECT_EQ(rate_correction_names.list(), "log-linear, half-count or none");
  EXPECT_THROW(rate_correction_names.parse("1/2N", "correction"), lrm::SettingError);
}
