#include "volley/metrics/collector.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "volley/metrics/shard.h"

namespace volley::metrics {
namespace {

using std::chrono::seconds;

Snapshot CounterDelta(double value) {
  Snapshot s;
  s.Put(SeriesKey("reqs"), Counter{value});
  return s;
}

TEST(Collector, TickClosesIntervalsAndAccumulates) {
  Collector collector(seconds(100));
  EXPECT_EQ(collector.LastInterval(), (Interval{seconds(100), seconds(100), Snapshot()}));
  collector.AddDelta(CounterDelta(2));
  collector.AddDelta(CounterDelta(3));
  EXPECT_TRUE(collector.Cumulative().empty());  // not in before the tick
  collector.Tick(seconds(101));
  collector.Tick(seconds(102));  // no deltas: an empty interval, no gap
  collector.AddDelta(CounterDelta(10));
  collector.Tick(seconds(103));

  EXPECT_EQ(collector.Cumulative().SumCounter("reqs"), 15);
  const std::vector<Interval> intervals = collector.Intervals();
  ASSERT_EQ(intervals.size(), 3u);
  EXPECT_EQ(intervals[0].start, seconds(100));
  EXPECT_EQ(intervals[0].end, seconds(101));
  EXPECT_EQ(intervals[0].delta.SumCounter("reqs"), 5);
  EXPECT_TRUE(intervals[1].delta.empty());
  EXPECT_EQ(intervals[2].start, seconds(102));
  EXPECT_EQ(intervals[2].delta.SumCounter("reqs"), 10);
  EXPECT_EQ(collector.LastInterval(), intervals[2]);

  const std::vector<Interval> after = collector.IntervalsAfter(seconds(101));
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0].end, seconds(102));
  EXPECT_TRUE(collector.IntervalsAfter(seconds(103)).empty());
}

TEST(Collector, RingIsBounded) {
  Collector collector(seconds(0), 3);
  for (int i = 1; i <= 5; ++i) {
    collector.AddDelta(CounterDelta(i));
    collector.Tick(seconds(i));
  }
  const std::vector<Interval> intervals = collector.Intervals();
  ASSERT_EQ(intervals.size(), 3u);
  EXPECT_EQ(intervals.front().start, seconds(2));
  EXPECT_EQ(intervals.front().delta.SumCounter("reqs"), 3);
  EXPECT_EQ(intervals.back().end, seconds(5));
  EXPECT_EQ(collector.dropped_intervals(), 2u);
  EXPECT_EQ(collector.Cumulative().SumCounter("reqs"), 15);  // dropping loses no totals
}

TEST(Collector, ClockGoingBackIsClamped) {
  Collector collector(seconds(10));
  collector.Tick(seconds(12));
  collector.Tick(seconds(11));
  EXPECT_EQ(collector.LastInterval().start, seconds(12));
  EXPECT_EQ(collector.LastInterval().end, seconds(12));
}

TEST(Collector, CountsMergeConflicts) {
  Collector collector(seconds(0));
  collector.AddDelta(CounterDelta(1));
  Snapshot gauge;
  gauge.Put(SeriesKey("reqs"), Gauge{.last = 1});
  collector.AddDelta(gauge);
  collector.Tick(seconds(1));
  EXPECT_EQ(collector.merge_conflicts(), 1u);
  EXPECT_EQ(collector.Cumulative().SumCounter("reqs"), 1);
}

// Deterministic per-thread samples: microseconds, log-uniform 1 µs .. 10 s.
std::vector<uint64_t> SamplesFor(int thread, size_t n) {
  std::mt19937_64 rng(1000 + thread);
  std::uniform_real_distribution<double> exponent(0, 23);  // e^23 ≈ 1e10
  std::vector<uint64_t> out(n);
  for (uint64_t& u : out) u = static_cast<uint64_t>(std::exp(exponent(rng))) + 1;
  return out;
}

TEST(Collector, EightThreadsMergeToTheSingleThreadedHistogram) {
  constexpr int kThreads = 8;
  constexpr size_t kPerThread = 125'000;
  constexpr size_t kRounds = 5;
  Collector collector(seconds(0), 1'000'000);  // keep every interval for the check below
  std::atomic<int> running{kThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&collector, &running, t] {
      const std::vector<uint64_t> samples = SamplesFor(t, kPerThread);
      Shard shard;
      Histogram* lat = shard.GetTrend(SeriesKey("lat"));
      Counter* reqs = shard.GetCounter(SeriesKey("reqs", {{"thread", std::to_string(t % 2)}}));
      for (size_t round = 0; round < kRounds; ++round) {
        const size_t begin = round * kPerThread / kRounds;
        const size_t end = (round + 1) * kPerThread / kRounds;
        for (size_t i = begin; i < end; ++i) {
          lat->RecordUnits(samples[i]);
          reqs->Add(1);
        }
        collector.AddDelta(shard.TakeDelta());
      }
      running.fetch_sub(1);
    });
  }
  int64_t tick = 0;
  while (running.load() > 0) {  // ticks race with the workers' deltas on purpose
    collector.Tick(seconds(++tick));
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  for (std::thread& th : threads) th.join();
  collector.Tick(seconds(++tick));

  Histogram reference;
  for (int t = 0; t < kThreads; ++t) {
    for (uint64_t u : SamplesFor(t, kPerThread)) reference.RecordUnits(u);
  }
  const Snapshot cumulative = collector.Cumulative();
  ASSERT_NE(cumulative.FindTrend("lat"), nullptr);
  EXPECT_EQ(*cumulative.FindTrend("lat"), reference);
  EXPECT_EQ(cumulative.FindTrend("lat")->count(), kThreads * kPerThread);
  EXPECT_EQ(cumulative.SumCounter("reqs"), kThreads * kPerThread);
  EXPECT_EQ(cumulative.FindCounter("reqs", {{"thread", "0"}})->value, kThreads / 2 * kPerThread);

  // The intervals partition the samples: merged again they give the same histogram.
  Snapshot again;
  for (const Interval& interval : collector.Intervals()) again.Merge(interval.delta);
  EXPECT_EQ(again, cumulative);
}

}  // namespace
}  // namespace volley::metrics
