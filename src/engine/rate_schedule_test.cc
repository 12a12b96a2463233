#include "volley/engine/rate_schedule.h"

#include <gtest/gtest.h>

#include <cmath>

namespace volley::engine {
namespace {

using config::LoadModel;
using config::LoadModelKind;
using std::chrono::seconds;

TEST(RateSchedule, FixedRateIsEvenlySpacedAndExact) {
  LoadModel m;
  m.kind = LoadModelKind::kRps;
  m.target = 1000;
  auto s = RateSchedule::ForModel(m, seconds(10));
  ASSERT_TRUE(s);
  EXPECT_EQ(*s->ArrivalTime(0), Nanos(0));
  EXPECT_EQ(*s->ArrivalTime(1), std::chrono::milliseconds(1));
  EXPECT_EQ(*s->ArrivalTime(9999), std::chrono::microseconds(9'999'000));
  EXPECT_FALSE(s->ArrivalTime(10000).has_value());
  EXPECT_DOUBLE_EQ(s->CumulativeAt(seconds(4)), 4000);
}

TEST(RateSchedule, RampRisesHoldsAndFallsInThirds) {
  LoadModel m;
  m.kind = LoadModelKind::kRamp;
  m.min = 10;
  m.max = 100;
  m.ramp_duration = seconds(30);
  auto s = RateSchedule::ForModel(m, seconds(40));
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->RateAt(seconds(0)), 10);
  EXPECT_DOUBLE_EQ(s->RateAt(seconds(5)), 55);
  EXPECT_DOUBLE_EQ(s->RateAt(seconds(15)), 100);
  EXPECT_DOUBLE_EQ(s->RateAt(seconds(25)), 55);
  EXPECT_DOUBLE_EQ(s->RateAt(seconds(35)), 10);
  // Integral: 10 s at mean 55 + 10 s at 100 + 10 s at mean 55 + 10 s at 10.
  EXPECT_NEAR(s->CumulativeAt(seconds(40)), 550 + 1000 + 550 + 100, 1e-6);
}

TEST(RateSchedule, ArrivalTimesInvertTheCumulativeCount) {
  LoadModel m;
  m.kind = LoadModelKind::kStages;
  m.stages = {{seconds(10), 100}, {seconds(10), 100}, {seconds(5), 20}};
  auto s = RateSchedule::ForModel(m, seconds(25));
  ASSERT_TRUE(s);
  const uint64_t total = static_cast<uint64_t>(s->CumulativeAt(seconds(25)));
  EXPECT_EQ(total, 500u + 1000u + 300u);
  Nanos prev{0};
  for (uint64_t k = 0; k < total; k += 7) {
    auto t = s->ArrivalTime(k);
    ASSERT_TRUE(t.has_value()) << k;
    EXPECT_GE(*t, prev);
    prev = *t;
    // N(t_k) == k within rounding of the nanosecond.
    EXPECT_NEAR(s->CumulativeAt(*t), static_cast<double>(k), 1e-3) << k;
  }
}

TEST(RateSchedule, DailyTrafficRepeatsItsCycle) {
  LoadModel m;
  m.kind = LoadModelKind::kDailyTraffic;
  m.min = 10;
  m.mid = 50;
  m.max = 100;
  m.cycle_duration = seconds(100);
  auto s = RateSchedule::ForModel(m, seconds(1000));
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->RateAt(seconds(0)), 10);
  EXPECT_NEAR(s->RateAt(seconds(12) + std::chrono::milliseconds(500)), 100, 1e-9);  // peak
  EXPECT_NEAR(s->RateAt(seconds(20)), 100, 1e-9);
  EXPECT_NEAR(s->RateAt(seconds(45)), 50, 1e-9);  // mid sustain
  EXPECT_NEAR(s->RateAt(seconds(95)), 10, 1e-9);  // night
  EXPECT_DOUBLE_EQ(s->RateAt(seconds(120)), s->RateAt(seconds(20)));
  const double one = s->CumulativeAt(seconds(100));
  EXPECT_NEAR(s->CumulativeAt(seconds(300)), 3 * one, 1e-6);
  auto t = s->ArrivalTime(static_cast<uint64_t>(std::ceil(one)) + 3);
  ASSERT_TRUE(t);
  EXPECT_GT(*t, seconds(100));
}

TEST(RateSchedule, ConcurrentHasNoSchedule) {
  LoadModel m;
  EXPECT_FALSE(RateSchedule::ForModel(m, seconds(1)));
}

}  // namespace
}  // namespace volley::engine
