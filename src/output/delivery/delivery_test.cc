#include "volley/output/delivery.h"

#include <gtest/gtest.h>

namespace volley::output::delivery {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(BackoffPolicy, DoublesFromBaseUpToMax) {
  BackoffPolicy p(milliseconds(500), seconds(30), 0.2);
  // u = 0.5 is the middle of the jitter range: no jitter.
  EXPECT_EQ(p.Delay(1, 0.5), milliseconds(500));
  EXPECT_EQ(p.Delay(2, 0.5), milliseconds(1000));
  EXPECT_EQ(p.Delay(3, 0.5), milliseconds(2000));
  EXPECT_EQ(p.Delay(4, 0.5), milliseconds(4000));
  EXPECT_EQ(p.Delay(7, 0.5), milliseconds(30000));  // 32 s capped
  EXPECT_EQ(p.Delay(1000, 0.5), milliseconds(30000));
  EXPECT_EQ(p.Delay(0, 0.5), milliseconds(500));  // treated as the first
}

TEST(BackoffPolicy, JitterIsPlusMinusItsFractionAndNeverAboveMax) {
  BackoffPolicy p(milliseconds(500), seconds(30), 0.2);
  EXPECT_EQ(p.Delay(1, 0), milliseconds(400));
  EXPECT_EQ(p.Delay(1, 0.75), milliseconds(550));
  EXPECT_EQ(p.Delay(1, 7.0), milliseconds(600));  // u clamped to 1
  EXPECT_EQ(p.Delay(7, 0.999), seconds(30));      // the cap holds with jitter
  EXPECT_EQ(p.Delay(7, 0), seconds(24));
  BackoffPolicy none(milliseconds(10), milliseconds(10), 0);
  EXPECT_EQ(none.Delay(5, 0.9), milliseconds(10));
}

TEST(BackoffPolicy, MaxBelowBaseIsRaisedToBase) {
  BackoffPolicy p(seconds(2), seconds(1), 0);
  EXPECT_EQ(p.max(), seconds(2));
  EXPECT_EQ(p.Delay(3, 0), seconds(2));
}

// (The OTLP exporter's retry_policy_test checks the jittered sequence of Backoff.)
TEST(Backoff, WithoutJitterIsThePolicysSequence) {
  Backoff b(milliseconds(100), milliseconds(350), 7, 0);
  EXPECT_EQ(b.Next(), milliseconds(100));
  EXPECT_EQ(b.Next(), milliseconds(200));
  EXPECT_EQ(b.Next(), milliseconds(350));
  EXPECT_EQ(b.attempt(), 3);
  b.Reset();
  EXPECT_EQ(b.Next(), milliseconds(100));
}

TEST(RetryDelay, RetryAfterWinsButStillCountsAndIsCapped) {
  Backoff b(seconds(1), seconds(30), 3);
  EXPECT_EQ(RetryDelay(Nanos(seconds(3)), b), Nanos(seconds(3)));
  EXPECT_EQ(b.attempt(), 1);
  EXPECT_EQ(RetryDelay(Nanos(seconds(86400)), b, std::chrono::minutes(5)),
            Nanos(std::chrono::minutes(5)));
  const Nanos d = RetryDelay(std::nullopt, b);
  EXPECT_GE(d, milliseconds(3200));  // attempt 3: 4 s ± 20 %
  EXPECT_LE(d, milliseconds(4800));
}

TEST(RetryAfter, SecondsIntegerOrFractionalAndCapped) {
  EXPECT_EQ(ParseRetryAfter("2", 0), seconds(2));
  EXPECT_EQ(ParseRetryAfter(" 0 ", 0), Nanos(0));
  EXPECT_EQ(ParseRetryAfter("1.5", 0), milliseconds(1500));
  EXPECT_EQ(ParseRetryAfter("86400", 0), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999", 0), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("", 0), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-1", 0), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", 0), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("inf", 0), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("1.5s", 0), std::nullopt);
}

TEST(RetryAfter, HttpDateRelativeToNow) {
  // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 30), seconds(30));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 5), Nanos(0));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 0), kMaxRetryAfter);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT trailing", 0), std::nullopt);
}

}  // namespace
}  // namespace volley::output::delivery
