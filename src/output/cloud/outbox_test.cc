#include "outbox.h"

#include <gtest/gtest.h>

namespace volley::output::cloud {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

PushRequest Req(size_t bytes, uint64_t samples, const char* key = "k") {
  PushRequest r;
  r.idempotency_key = key;
  r.body.assign(bytes, 'x');
  r.samples = samples;
  return r;
}

// No jitter, base 1 s, max 8 s, 2 quick retries.
Outbox MakeOutbox(uint64_t max_bytes = 1 << 20, int retries = 2) {
  return Outbox(max_bytes, retries, BackoffPolicy(seconds(1), seconds(8), 0));
}

TEST(Outbox, HandsOutOldestFirstAndCountsSuccess) {
  FakeClock clock;
  Outbox o = MakeOutbox();
  o.Add(Req(10, 3, "a"));
  o.Add(Req(20, 4, "b"));
  EXPECT_EQ(o.waiting(), 2u);
  EXPECT_EQ(o.waiting_bytes(), 30u);
  EXPECT_EQ(o.NextReady(), Nanos(0));
  auto a = o.Take(clock.Now());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->idempotency_key, "a");
  EXPECT_EQ(o.in_flight(), 1u);
  o.Succeeded(*a);
  auto b = o.Take(clock.Now());
  ASSERT_TRUE(b);
  EXPECT_EQ(b->idempotency_key, "b");
  o.Succeeded(*b);
  EXPECT_FALSE(o.Take(clock.Now()));
  EXPECT_EQ(o.NextReady(), Nanos::max());
  EXPECT_EQ(o.stats().batches_sent, 2u);
  EXPECT_EQ(o.stats().samples_sent, 7u);
  EXPECT_EQ(o.stats().bytes_sent, 30u);
  EXPECT_EQ(o.stats().attempts, 2u);
  EXPECT_EQ(o.stats().retries, 0u);
}

TEST(Outbox, RetriesWithExponentialBackoffThenBacklogs) {
  FakeClock clock;
  Outbox o = MakeOutbox();
  o.Add(Req(10, 1, "a"));
  const Nanos t0 = clock.Now();
  // Failure k puts the request back at now + 1 s * 2^(k-1), capped at 8 s.
  const Nanos expected_delays[] = {seconds(1), seconds(2), seconds(4), seconds(8), seconds(8)};
  Nanos now = t0;
  for (int k = 1; k <= 5; ++k) {
    auto r = o.Take(now);
    ASSERT_TRUE(r) << k;
    EXPECT_EQ(r->idempotency_key, "a");  // the same key on every retry
    o.Failed(std::move(*r), now, std::nullopt);
    EXPECT_EQ(o.NextReady(), now + expected_delays[k - 1]) << k;
    EXPECT_FALSE(o.Take(now + expected_delays[k - 1] - Nanos(1))) << k;
    now += expected_delays[k - 1];
    // 1 + retries (2) failures make a backlogged request.
    EXPECT_EQ(o.stats().backlogged, k >= 3 ? 1u : 0u) << k;
  }
  auto r = o.Take(now);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->failures, 5);
  EXPECT_TRUE(r->backlogged);
  o.Succeeded(*r);
  EXPECT_EQ(o.stats().attempts, 6u);
  EXPECT_EQ(o.stats().retries, 5u);
  EXPECT_EQ(o.stats().batches_sent, 1u);
  EXPECT_EQ(o.stats().DroppedBatches(), 0u);
}

TEST(Outbox, AFailureGatesEveryRequestUntilASuccess) {
  FakeClock clock;
  Outbox o = MakeOutbox();
  o.Add(Req(10, 1, "a"));
  o.Add(Req(10, 1, "b"));
  const Nanos now = clock.Now();
  auto a = o.Take(now);
  o.Failed(std::move(*a), now, std::nullopt);
  // "b" is ready, but the endpoint just failed: nothing before now + 1 s.
  EXPECT_FALSE(o.Take(now));
  EXPECT_EQ(o.NextReady(), now + seconds(1));
  auto next = o.Take(now + seconds(1));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->idempotency_key, "a");  // oldest first, retries included
  o.Succeeded(*next);
  auto b = o.Take(now + seconds(1));  // success reopened the gate
  ASSERT_TRUE(b);
  EXPECT_EQ(b->idempotency_key, "b");
}

TEST(Outbox, RetryAfterIsHonouredForEveryRequest) {
  FakeClock clock;
  Outbox o = MakeOutbox();
  o.Add(Req(10, 1, "a"));
  o.Add(Req(10, 1, "b"));
  const Nanos now = clock.Now();
  auto a = o.Take(now);
  o.Failed(std::move(*a), now, seconds(5));  // 429 with Retry-After: 5
  EXPECT_EQ(o.NextReady(), now + seconds(5));
  EXPECT_FALSE(o.Take(now + seconds(5) - Nanos(1)));
  auto r = o.Take(now + seconds(5));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->idempotency_key, "a");
  o.Succeeded(*r);
  // The Retry-After gate stays closed after a success until its time, which has passed.
  EXPECT_TRUE(o.Take(now + seconds(5)));
}

TEST(Outbox, TheBoundDropsTheOldestAndCountsExactly) {
  Outbox o = MakeOutbox(/*max_bytes=*/250);
  for (int i = 0; i < 5; ++i) o.Add(Req(100, 10 + i));  // samples 10..14
  // 500 bytes offered, 250 allowed: the three oldest go.
  EXPECT_EQ(o.waiting(), 2u);
  EXPECT_EQ(o.waiting_bytes(), 200u);
  const auto& s = o.stats();
  EXPECT_EQ(s.dropped_batches[static_cast<size_t>(DropReason::kBacklogFull)], 3u);
  EXPECT_EQ(s.dropped_samples[static_cast<size_t>(DropReason::kBacklogFull)], 10u + 11 + 12);
  auto r = o.Take(Nanos(0));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->samples, 13u);
}

TEST(Outbox, TheNewestRequestIsKeptEvenAboveTheBound) {
  Outbox o = MakeOutbox(/*max_bytes=*/0);
  o.Add(Req(100, 1));
  EXPECT_EQ(o.waiting(), 1u);
  o.Add(Req(100, 2));
  EXPECT_EQ(o.waiting(), 1u);
  EXPECT_EQ(o.stats().DroppedBatches(), 1u);
  EXPECT_EQ(o.stats().DroppedSamples(), 1u);
}

TEST(Outbox, AFailedRequestComingBackCanBeTrimmed) {
  Outbox o = MakeOutbox(/*max_bytes=*/150);
  o.Add(Req(100, 5, "old"));
  auto old = o.Take(Nanos(0));
  o.Add(Req(100, 7, "new"));  // in flight is not counted: 100 waiting
  EXPECT_EQ(o.stats().DroppedBatches(), 0u);
  o.Failed(std::move(*old), Nanos(0), std::nullopt);  // 200 waiting: the oldest goes
  EXPECT_EQ(o.waiting(), 1u);
  EXPECT_EQ(o.stats().dropped_samples[static_cast<size_t>(DropReason::kBacklogFull)], 5u);
  EXPECT_EQ(o.in_flight(), 0u);
}

TEST(Outbox, RejectedAndDropWaitingAreCountedByReason) {
  Outbox o = MakeOutbox();
  o.Add(Req(1, 2));
  o.Add(Req(1, 3));
  o.Add(Req(1, 4));
  auto r = o.Take(Nanos(0));
  o.Rejected(*r, DropReason::kRejected);
  o.DropWaiting(DropReason::kUnsent);
  const auto& s = o.stats();
  EXPECT_EQ(s.dropped_batches[static_cast<size_t>(DropReason::kRejected)], 1u);
  EXPECT_EQ(s.dropped_samples[static_cast<size_t>(DropReason::kRejected)], 2u);
  EXPECT_EQ(s.dropped_batches[static_cast<size_t>(DropReason::kUnsent)], 2u);
  EXPECT_EQ(s.dropped_samples[static_cast<size_t>(DropReason::kUnsent)], 7u);
  EXPECT_EQ(s.DroppedBatches(), 3u);
  EXPECT_EQ(s.DroppedSamples(), 9u);
  EXPECT_TRUE(o.empty());
  EXPECT_EQ(o.waiting_bytes(), 0u);
  EXPECT_STREQ(DropReasonName(DropReason::kUnsent), "unsent at the stop deadline");
}

TEST(Outbox, DrainDecisionAtTheStopDeadline) {
  FakeClock clock;
  Outbox o = MakeOutbox();
  const Nanos deadline = clock.Now() + seconds(3);
  EXPECT_TRUE(DrainFinished(o, clock.Now(), deadline));  // nothing to send
  o.Add(Req(1, 1));
  EXPECT_FALSE(DrainFinished(o, clock.Now(), deadline));
  auto r = o.Take(clock.Now());
  EXPECT_FALSE(DrainFinished(o, clock.Now(), deadline));  // in flight: wait for it
  o.Failed(std::move(*r), clock.Now(), std::nullopt);     // retry due at +1 s
  EXPECT_FALSE(DrainFinished(o, clock.Now(), deadline));
  clock.Advance(seconds(1));
  r = o.Take(clock.Now());
  ASSERT_TRUE(r);
  o.Failed(std::move(*r), clock.Now(), std::nullopt);    // next try at +2 s = the deadline
  EXPECT_TRUE(DrainFinished(o, clock.Now(), deadline));  // cannot be sent in time
  o.DropWaiting(DropReason::kUnsent);
  EXPECT_EQ(o.stats().dropped_samples[static_cast<size_t>(DropReason::kUnsent)], 1u);
  // At the deadline everything is over, even with work in flight.
  o.Add(Req(1, 1));
  o.Take(clock.Now() + seconds(10));
  EXPECT_TRUE(DrainFinished(o, deadline, deadline));
}

}  // namespace
}  // namespace volley::output::cloud
