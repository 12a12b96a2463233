// Shared by the cloud output's loopback tests: a collector fed with known deltas whose
// intervals lie an hour in the past (so every bucket is due at once), and the comparison
// of what an ingest received with what was fed.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "volley/metrics/collector.h"
#include "volley/metrics/names.h"
#include "volley/output/cloud_output.h"
#include "volley/output/output.h"

namespace volley::output::testing {

namespace names = metrics::names;
constexpr int64_t kSec = 1'000'000'000;

// 5 series with data in every interval k (1-based): two counters, a trend, a rate and a
// gauge, with values that differ per interval.
inline metrics::Snapshot DeltaOf(int k) {
  metrics::Snapshot s;
  s.Put(metrics::SeriesKey(names::kRequests, {{"status_code", "200"}}), metrics::Counter{1.0 * k});
  s.Put(metrics::SeriesKey(names::kRequests, {{"status_code", "500"}}), metrics::Counter{1});
  metrics::Histogram h;
  for (int i = 0; i < k; ++i) h.RecordUnits(static_cast<uint64_t>(1000 * k + 37 * i));
  s.Put(metrics::SeriesKey(names::kDuration), h);
  s.Put(metrics::SeriesKey("checks"), metrics::Rate{static_cast<uint64_t>(k % 3), 3});
  metrics::Gauge g;
  g.Set(k);
  g.Set(2 * k);
  s.Put(metrics::SeriesKey(names::kConcurrentRequests), g);
  return s;
}
inline constexpr int kSeriesPerInterval = 5;

// A run whose collector time starts an hour ago, on the real clock.
struct PastRun {
  const Nanos start = MonotonicNow() - std::chrono::hours(1);
  metrics::Collector collector{start};
  OutputContext ctx;
  int ticks = 0;

  PastRun() {
    ctx.collector_start = start;
    ctx.wall_start_unix_nanos = 1'700'000'001LL * kSec;  // a whole second, 3 s aligned
    ctx.run_id = "run-1";
    ctx.clock = &SteadyClock::Instance();
  }
  // Adds DeltaOf(k) for the next `n` intervals of one second each, ticking after each.
  void Feed(int n) {
    for (int i = 0; i < n; ++i) {
      ++ticks;
      collector.AddDelta(DeltaOf(ticks));
      collector.Tick(start + Nanos(ticks * kSec));
    }
  }
};

// Polls `pred` every millisecond until it holds or `timeout` (real time) passes.
inline bool Eventually(const std::function<bool()>& pred,
                       Nanos timeout = std::chrono::seconds(20)) {
  const Nanos until = MonotonicNow() + timeout;
  while (!pred()) {
    if (MonotonicNow() >= until) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Every series of `fed` (with data) is in `got` under `prefix` + name with the same
// totals: counters and rates exactly, gauges' count/min/max/sum exactly, histograms'
// count and every bucket count exactly; and `got` has nothing else.
inline void ExpectSameTotals(const metrics::Snapshot& fed, const metrics::Snapshot& got,
                             const std::string& prefix = "volley_") {
  size_t compared = 0;
  for (const auto& [key, value] : fed) {
    const metrics::SeriesKey wire(prefix + key.name, key.labels);
    const metrics::MetricValue* v = got.Find(wire);
    ASSERT_NE(v, nullptr) << wire.ToString();
    ASSERT_EQ(v->index(), value.index()) << wire.ToString();
    ++compared;
    if (auto* c = std::get_if<metrics::Counter>(&value)) {
      EXPECT_EQ(std::get<metrics::Counter>(*v).value, c->value) << wire.ToString();
    } else if (auto* r = std::get_if<metrics::Rate>(&value)) {
      EXPECT_EQ(std::get<metrics::Rate>(*v), *r) << wire.ToString();
    } else if (auto* g = std::get_if<metrics::Gauge>(&value)) {
      const auto& w = std::get<metrics::Gauge>(*v);
      EXPECT_EQ(w.count, g->count) << wire.ToString();
      EXPECT_EQ(w.min, g->min) << wire.ToString();
      EXPECT_EQ(w.max, g->max) << wire.ToString();
      EXPECT_EQ(w.sum, g->sum) << wire.ToString();
    } else {
      const auto& h = std::get<metrics::Histogram>(value);
      const auto& w = std::get<metrics::Histogram>(*v);
      EXPECT_EQ(w.count(), h.count()) << wire.ToString();
      h.ForEachBucket([&](uint32_t i, uint64_t n) {
        EXPECT_EQ(w.BucketCount(i), n) << wire.ToString() << " bucket " << i;
      });
      EXPECT_NEAR(w.min(), h.min(), 1e-12);
      EXPECT_NEAR(w.max(), h.max(), 1e-12);
    }
  }
  EXPECT_EQ(got.size(), compared);
}

using KV = std::vector<std::pair<std::string, std::string>>;

// Test settings: every bucket due at once, a quick push interval, short backoffs; `extra`
// after them (a later key wins).
inline KV Fast(KV extra = {}) {
  KV kv = {{"aggregationPeriod", "1s"}, {"waitPeriod", "0s"},        {"pushInterval", "20ms"},
           {"retryBackoff", "10ms"},    {"maxRetryBackoff", "50ms"}, {"timeout", "5s"}};
  kv.insert(kv.end(), extra.begin(), extra.end());
  return kv;
}

// An output for `run` (nullptr, with a test failure, if the configuration is refused);
// its log goes to `log`, or nowhere.
inline std::unique_ptr<CloudOutput> MakeOutput(const std::string& url, const KV& options,
                                               const PastRun& run,
                                               const std::map<std::string, std::string>& env = {},
                                               CloudOutput::LogFn log = {}) {
  auto out = CloudOutput::Create(url, options, env, run.ctx);
  EXPECT_TRUE(out) << out.error().message;
  if (!out) return nullptr;
  (*out)->SetLogger(log ? std::move(log) : [](const std::string&) {});
  return std::move(*out);
}

// The real clock's time `d` from now: a Stop() deadline.
inline Nanos In(Nanos d) { return MonotonicNow() + d; }

}  // namespace volley::output::testing
