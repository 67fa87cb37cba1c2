#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/error.hpp"
#include "stats/signal_detection.hpp"
#include "stats/steering_scores.hpp"
#include "stats/ttest.hpp"

using namespace lrm::stats;

namespace {
// 4 composites, 2 conditions, roles target1, target2, absent; one output kept per trial.
ChallengeTrials four_composites() {
  ChallengeTrials t;
  t.composites = 4;
  t.conditions = 2;
  t.roles = 3;
  t.outputs = 1;
  t.wanted = {1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3};  // composite × role
  t.absent = {false, false, true};
  // Condition 0: composite n hits target1 for n < 3, target2 for n < 1, the absent one for n == 3.
  // Condition 1: every trial correct.
  const std::vector<std::vector<std::int64_t>> top1{
      {1, 2, 0, 1, 2, 3}, {4, 0, 0, 4, 5, 6}, {7, 0, 0, 7, 8, 9}, {0, 0, 3, 1, 2, 3}};
  for (std::int64_t n = 0; n < 4; ++n)
    for (std::int64_t c = 0; c < 2; ++c)
      for (std::int64_t r = 0; r < 3; ++r) {
        t.top1.push_back(top1[n][c * 3 + r]);
        t.output.push_back(static_cast<float>(10 * n + 3 * c + r));
      }
  return t;
}
}  // namespace

TEST(StatsSteeringScores, ChallengeRatesFollowFromTheTrials) {
  const auto s = score_challenge(four_composites(), {200, 3, 0.9}, RateCorrection::log_linear);
  EXPECT_EQ(s.target_roles, (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(s.absent_roles, (std::vector<std::int64_t>{2}));
  ASSERT_EQ(s.hit_rate.size(), 2u);
  EXPECT_DOUBLE_EQ(s.hit_rate[0], 4.0 / 8);  // 3 target1 hits + 1 target2 hit of 8 trials
  EXPECT_DOUBLE_EQ(s.false_alarm_rate[0], 1.0 / 4);
  EXPECT_DOUBLE_EQ(s.hit_rate[1], 1.0);
  EXPECT_DOUBLE_EQ(s.false_alarm_rate[1], 1.0);
  EXPECT_EQ(s.hit_rate_by_target, (std::vector<double>{0.75, 0.25, 1.0, 1.0}));
  EXPECT_DOUBLE_EQ(s.a_prime[0], a_prime(0.5, 0.25));
  EXPECT_DOUBLE_EQ(s.a_zhang_mueller[0], a_zhang_mueller(0.5, 0.25));
  const auto d = d_prime(4, 8, 1, 4, RateCorrection::log_linear);
  EXPECT_DOUBLE_EQ(s.d_prime[0], d.d_prime);
  EXPECT_DOUBLE_EQ(s.criterion[0], d.criterion);
  // Mean output of condition 1, role absent: (5 + 15 + 25 + 35) / 4.
  ASSERT_EQ(s.mean_output.size(), 6u);
  EXPECT_DOUBLE_EQ(s.mean_output[1 * 3 + 2], 20.0);
  for (std::size_t i = 0; i < s.hit_rate.size(); ++i) {
    EXPECT_LE(s.hit_rate_ci[2 * i], s.hit_rate[i]);
    EXPECT_GE(s.hit_rate_ci[2 * i + 1], s.hit_rate[i]);
  }
  // Every resample of condition 1 has the same rates, so its intervals are points.
  EXPECT_EQ(s.hit_rate_ci[2], 1.0);
  EXPECT_EQ(s.hit_rate_ci[3], 1.0);
}

TEST(StatsSteeringScores, ChallengeWithoutAbsentRoleHasNoFalseAlarms) {
  auto t = four_composites();
  t.absent = {false, false, false};
  const auto s = score_challenge(t, {50, 0, 0.95}, RateCorrection::none);
  EXPECT_TRUE(s.hits());
  EXPECT_FALSE(s.false_alarms());
  EXPECT_TRUE(s.false_alarm_rate.empty());
  EXPECT_TRUE(s.a_prime.empty());
  EXPECT_DOUBLE_EQ(s.hit_rate[0], 5.0 / 12);
}

TEST(StatsSteeringScores, AttentionTableIndexAndPairedT) {
  AttentionTrials t;
  t.blends = 3;
  // Blend × unit type × attended: A-units prefer attending A, B-units attending B.
  t.activation = {2.0, 1.0, 0.5, 1.5, 3.0, 1.5, 1.0, 1.75, 2.5, 1.25, 0.75, 2.0};
  t.unsteered = {1, 1, 2, 1, 1, 2};
  t.unit_labels = {"A-units", "B-units"};
  const auto s = score_attention(t, {100, 1, 0.95});
  const double a_a = (2.0 + 3.0 + 2.5) / 3, a_b = (1.0 + 1.5 + 1.25) / 3;
  EXPECT_DOUBLE_EQ(s.table[0], a_a);
  EXPECT_DOUBLE_EQ(s.table[1], a_b);
  EXPECT_DOUBLE_EQ(s.unsteered[1], (1.0 + 1.0 + 2.0) / 3);
  EXPECT_DOUBLE_EQ(s.modulation_index[0], (a_a - a_b) / (a_a + a_b));
  const auto b_pref = (1.5 + 1.75 + 2.0) / 3, b_other = (0.5 + 1.0 + 0.75) / 3;
  EXPECT_DOUBLE_EQ(s.modulation_index[1], (b_pref - b_other) / (b_pref + b_other));
  const auto paired = ttest_rel({2.0, 3.0, 2.5}, {1.0, 1.5, 1.25});
  EXPECT_EQ(s.t[0], paired.t);
  EXPECT_EQ(s.p[0], paired.p);
  EXPECT_EQ(s.df[1], 2.0);
}

TEST(StatsSteeringScores, SilentUnitsNameTheirType) {
  AttentionTrials t;
  t.blends = 2;
  t.activation = {1, 2, 0, 0, 3, 1, 0, 0};
  t.unsteered = {1, 0, 1, 0};
  t.unit_labels = {"3-units of layer x", "7-units of layer x"};
  try {
    score_attention(t, {20, 0, 0.95});
    FAIL() << "silent units were scored";
  } catch (const lrm::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("7-units of layer x"), std::string::npos) << e.what();
  }
}
