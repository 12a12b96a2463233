#include "backoff.h"

#include <gtest/gtest.h>

namespace volley::output::cloud {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(BackoffPolicy, DoublesFromBaseUpToMax) {
  BackoffPolicy p(milliseconds(500), seconds(30), 0.2);
  EXPECT_EQ(p.Delay(1, 0), milliseconds(500));
  EXPECT_EQ(p.Delay(2, 0), milliseconds(1000));
  EXPECT_EQ(p.Delay(3, 0), milliseconds(2000));
  EXPECT_EQ(p.Delay(4, 0), milliseconds(4000));
  EXPECT_EQ(p.Delay(7, 0), milliseconds(30000));  // 32 s capped
  EXPECT_EQ(p.Delay(1000, 0), milliseconds(30000));
  EXPECT_EQ(p.Delay(0, 0), milliseconds(500));  // treated as the first
}

TEST(BackoffPolicy, JitterAddsUpToItsFraction) {
  BackoffPolicy p(milliseconds(500), seconds(30), 0.2);
  EXPECT_EQ(p.Delay(1, 0.5), milliseconds(550));
  EXPECT_EQ(p.Delay(2, 0.999999), milliseconds(1000) + Nanos(199'999'800));
  EXPECT_EQ(p.Delay(1, 7.0), milliseconds(600));  // u clamped to 1
  BackoffPolicy none(milliseconds(10), milliseconds(10), 0);
  EXPECT_EQ(none.Delay(5, 0.9), milliseconds(10));
}

TEST(BackoffPolicy, MaxBelowBaseIsRaisedToBase) {
  BackoffPolicy p(seconds(2), seconds(1), 0);
  EXPECT_EQ(p.max(), seconds(2));
  EXPECT_EQ(p.Delay(3, 0), seconds(2));
}

TEST(RetryAfter, ParsesSecondsAndCaps) {
  EXPECT_EQ(ParseRetryAfter("2"), seconds(2));
  EXPECT_EQ(ParseRetryAfter(" 0 "), Nanos(0));
  EXPECT_EQ(ParseRetryAfter("1.5"), milliseconds(1500));
  EXPECT_EQ(ParseRetryAfter("86400"), BackoffPolicy::kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter(""), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-1"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("inf"), std::nullopt);
}

}  // namespace
}  // namespace volley::output::cloud
