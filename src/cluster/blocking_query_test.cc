// Consul's blocking-query index rules with a fake clock (specs/integrations.md §1).
#include "blocking_query.h"

#include <gtest/gtest.h>

namespace volley::cluster {
namespace {

using std::chrono::milliseconds;

TEST(BlockingQueryTest, CarriesTheLastIndex) {
  FakeClock clock;
  BlockingQuery q(clock, milliseconds(250), milliseconds(5000));
  EXPECT_EQ(q.index(), 0u);  // the first query does not block
  q.Sent();
  EXPECT_TRUE(q.Answered(17));
  EXPECT_EQ(q.index(), 17u);
  q.Sent();
  EXPECT_FALSE(q.Answered(17));  // a reply does not guarantee a change
  EXPECT_EQ(q.index(), 17u);
  EXPECT_TRUE(q.Answered(40));
  EXPECT_EQ(q.index(), 40u);
}

TEST(BlockingQueryTest, ResetsWhenTheIndexGoesBackwards) {
  FakeClock clock;
  BlockingQuery q(clock, milliseconds(250), milliseconds(5000));
  q.Answered(100);
  EXPECT_TRUE(q.Answered(7));  // Consul restarted: read afresh
  EXPECT_EQ(q.index(), 0u);
  EXPECT_TRUE(q.Answered(8));
  EXPECT_EQ(q.index(), 8u);
}

TEST(BlockingQueryTest, NeverBlocksWithAnIndexBelowOne) {
  FakeClock clock;
  BlockingQuery q(clock, milliseconds(250), milliseconds(5000));
  q.Answered(0);
  EXPECT_EQ(q.index(), 0u);
  q.Answered(5);
  q.Answered(std::nullopt);  // header missing
  EXPECT_EQ(q.index(), 0u);
  EXPECT_EQ(ParseConsulIndex("123"), 123u);
  EXPECT_EQ(ParseConsulIndex(""), std::nullopt);
  EXPECT_EQ(ParseConsulIndex("-1"), std::nullopt);
  EXPECT_EQ(ParseConsulIndex("12x"), std::nullopt);
  EXPECT_EQ(ParseConsulIndex("99999999999999999999"), std::nullopt);
}

TEST(BlockingQueryTest, RateLimitsTheLoop) {
  FakeClock clock;
  BlockingQuery q(clock, milliseconds(250), milliseconds(5000));
  EXPECT_EQ(q.Delay(), Nanos(0));  // nothing sent yet
  q.Sent();
  q.Answered(3);
  EXPECT_EQ(q.Delay(), milliseconds(250));  // an answer at once still waits
  clock.Advance(milliseconds(100));
  EXPECT_EQ(q.Delay(), milliseconds(150));
  clock.Advance(milliseconds(1000));  // a long blocking answer: go again at once
  EXPECT_EQ(q.Delay(), Nanos(0));
}

TEST(BlockingQueryTest, FailuresBackOffExponentiallyUpToTheCap) {
  FakeClock clock;
  BlockingQuery q(clock, milliseconds(250), milliseconds(5000));
  q.Answered(9);
  const int64_t want[] = {500, 1000, 2000, 4000, 5000, 5000};
  for (int64_t ms : want) {
    q.Sent();
    q.Failed();
    EXPECT_EQ(q.Delay(), milliseconds(ms)) << q.failures() << " failures";
    EXPECT_EQ(q.index(), 0u);  // after an outage, read afresh
  }
  q.Sent();
  q.Answered(10);
  EXPECT_EQ(q.Delay(), milliseconds(250));
}

}  // namespace
}  // namespace volley::cluster
