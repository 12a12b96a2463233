#include "retry_policy.h"

#include <gtest/gtest.h>

namespace volley::output::otlp {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RetryPolicy, OnlyTheSpecsStatusesAreRetryable) {
  EXPECT_EQ(ClassifyStatus(200), ReplyClass::kOk);
  EXPECT_EQ(ClassifyStatus(204), ReplyClass::kOk);
  for (int s : {429, 502, 503, 504}) EXPECT_EQ(ClassifyStatus(s), ReplyClass::kRetryable) << s;
  for (int s : {300, 400, 401, 403, 404, 408, 413, 500, 501, 505}) {
    EXPECT_EQ(ClassifyStatus(s), ReplyClass::kFatal) << s;
  }
}

TEST(RetryPolicy, RetryAfterSecondsAndDate) {
  EXPECT_EQ(ParseRetryAfter("7", 0), Nanos(seconds(7)));
  EXPECT_EQ(ParseRetryAfter(" 0 ", 0), Nanos(0));
  // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 30), Nanos(seconds(30)));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 5), Nanos(0));
  EXPECT_EQ(ParseRetryAfter("soon", 0), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", 0), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-3", 0), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT trailing", 0), std::nullopt);
}

TEST(RetryPolicy, BackoffDoublesWithinJitterAndIsCapped) {
  Backoff b(seconds(1), seconds(30), 42);
  const double expected[] = {1, 2, 4, 8, 16, 30, 30, 30};
  for (double base : expected) {
    const double d = std::chrono::duration<double>(b.Next()).count();
    EXPECT_GE(d, base * 0.8) << base;
    EXPECT_LE(d, std::min(base * 1.2, 30.0)) << base;
  }
  EXPECT_EQ(b.attempt(), 8);
  b.Reset();
  const double d = std::chrono::duration<double>(b.Next()).count();
  EXPECT_GE(d, 0.8);
  EXPECT_LT(d, 1.2);
}

TEST(RetryPolicy, JitterSpreadsDelays) {
  Backoff a(seconds(1), seconds(30), 1);
  Backoff b(seconds(1), seconds(30), 2);
  EXPECT_NE(a.Next(), b.Next());
}

TEST(RetryPolicy, RetryAfterWinsOverBackoffAndIsCapped) {
  Backoff b(seconds(1), seconds(30), 3);
  EXPECT_EQ(RetryDelay(Nanos(seconds(3)), b, std::chrono::minutes(5)), Nanos(seconds(3)));
  EXPECT_EQ(b.attempt(), 1);  // still counted
  EXPECT_EQ(RetryDelay(Nanos(seconds(86400)), b, std::chrono::minutes(5)),
            Nanos(std::chrono::minutes(5)));
  const Nanos d = RetryDelay(std::nullopt, b, std::chrono::minutes(5));
  EXPECT_GE(d, milliseconds(3200));  // attempt 2: 4 s ± 20 %
  EXPECT_LE(d, milliseconds(4800));
}

}  // namespace
}  // namespace volley::output::otlp
