#include "scenario/sampling.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace volley::engine::scenario {
namespace {

using std::chrono::milliseconds;

TEST(WeightedPickerTest, ProportionsWithinFiveSigma) {
  auto picker = WeightedPicker::Create({60, 30, 10});
  ASSERT_TRUE(picker);
  std::mt19937_64 rng(12345);
  constexpr int kN = 100000;
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < kN; ++i) ++counts[picker->Pick(rng)];
  const double p[3] = {0.6, 0.3, 0.1};
  for (int i = 0; i < 3; ++i) {
    double expected = kN * p[i];
    double sigma = std::sqrt(kN * p[i] * (1 - p[i]));
    EXPECT_NEAR(counts[i], expected, 5 * sigma) << "index " << i;
  }
  EXPECT_EQ(counts[0] + counts[1] + counts[2], kN);
}

TEST(WeightedPickerTest, SingleAndTinyWeights) {
  auto one = WeightedPicker::Create({0.001});
  ASSERT_TRUE(one);
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(one->Pick(rng), 0u);
  auto skewed = WeightedPicker::Create({1e-9, 1});
  ASSERT_TRUE(skewed);
  int first = 0;
  for (int i = 0; i < 100000; ++i) first += skewed->Pick(rng) == 0;
  EXPECT_LE(first, 2);
}

TEST(WeightedPickerTest, RejectsBadWeights) {
  EXPECT_EQ(WeightedPicker::Create({}).error().message, "weights: at least one scenario is needed");
  EXPECT_EQ(WeightedPicker::Create({1, 0}).error().message,
            "weight 1: must be a finite number > 0, got 0.000000");
  EXPECT_FALSE(WeightedPicker::Create({-1}));
  EXPECT_FALSE(WeightedPicker::Create({std::numeric_limits<double>::quiet_NaN()}));
  EXPECT_FALSE(WeightedPicker::Create({std::numeric_limits<double>::infinity()}));
  EXPECT_EQ(WeightedPicker::Create({1e308, 1e308}).error().message,
            "weights: the sum is too large");
}

TEST(ThinkTimeTest, FixedAndNone) {
  std::mt19937_64 rng(7);
  EXPECT_EQ(SampleThinkTime(config::ThinkTime{}, rng), Nanos(0));
  EXPECT_EQ(SampleThinkTime(config::ThinkTime{milliseconds(2000), milliseconds(2000)}, rng),
            milliseconds(2000));
  // A min above max is treated as fixed at min.
  EXPECT_EQ(SampleThinkTime(config::ThinkTime{milliseconds(5), milliseconds(1)}, rng),
            milliseconds(5));
}

TEST(ThinkTimeTest, UniformWithinBoundsAndMean) {
  std::mt19937_64 rng(99);
  config::ThinkTime think{milliseconds(1000), milliseconds(5000)};
  constexpr int kN = 100000;
  double sum = 0;
  Nanos lo = Nanos::max(), hi = Nanos::min();
  int low_quarter = 0;
  for (int i = 0; i < kN; ++i) {
    Nanos t = SampleThinkTime(think, rng);
    ASSERT_GE(t, milliseconds(1000));
    ASSERT_LE(t, milliseconds(5000));
    lo = std::min(lo, t);
    hi = std::max(hi, t);
    sum += static_cast<double>(t.count());
    low_quarter += t < milliseconds(2000);
  }
  // Mean 3 s; sd of a uniform on 4 s is 4/sqrt(12) s; 5 sigma of the mean.
  double sigma_mean = 4e9 / std::sqrt(12.0) / std::sqrt(double(kN));
  EXPECT_NEAR(sum / kN, 3e9, 5 * sigma_mean);
  EXPECT_NEAR(low_quarter, kN / 4, 5 * std::sqrt(kN * 0.25 * 0.75));
  EXPECT_LT(lo, milliseconds(1010));
  EXPECT_GT(hi, milliseconds(4990));
}

}  // namespace
}  // namespace volley::engine::scenario
