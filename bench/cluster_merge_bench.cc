// Cluster III (issue 14): the leader's merge and the node batch's wire cost.
//
// - BM_LeaderMerge/H: 100 node snapshots of 200 series each, in 4 regions, H of the 200
//   series latency histograms (the rest counters with labels), each histogram ~5,000
//   log-normal samples around 20 ms in µs units (a few hundred non-empty buckets). The
//   issue's bar: <= 5 ms for "3 latency histograms" per node; H = 150 is the heavy reading
//   (50 endpoints x 3 latency phases per node). Measures Aggregator::Merged (per-region and
//   global series, cluster gauges) with the 100 batches already offered.
// - BM_Encode/BM_Decode on two typical cumulative batches of a 60 s run at 1,000 rps:
//   "single" (a single-request run: 21 series, 8 of them latency histograms) and
//   "scenario" (5 scenarios x 8 steps: 301 series, 48 histograms). Counters: bytes per
//   batch, and snappy_bytes (what it would be block-compressed, for reference).
#include <benchmark/benchmark.h>
#include <snappy.h>

#include <random>
#include <string>

#include "volley/cluster/aggregator.h"
#include "volley/metrics/names.h"
#include "volley/wire/volley_metrics.h"

namespace {

using namespace volley;
using metrics::Counter;
using metrics::Gauge;
using metrics::Histogram;
using metrics::SeriesKey;
using metrics::Snapshot;
namespace names = metrics::names;

Histogram Latency(std::mt19937_64& rng, int samples, double median_us) {
  std::lognormal_distribution<double> d(std::log(median_us), 0.6);
  Histogram h;
  for (int i = 0; i < samples; ++i) h.RecordUnits(static_cast<uint64_t>(d(rng)) + 1);
  return h;
}

Snapshot NodeSnapshot(std::mt19937_64& rng, int series, int histograms) {
  Snapshot s;
  for (int i = 0; i < histograms; ++i) {
    static const char* kPhases[] = {names::kDuration, names::kWaiting, names::kBlocked};
    s.Put(SeriesKey(kPhases[i % 3], {{"url", "/api/" + std::to_string(i / 3)}}),
          Latency(rng, 5000, 20'000));
  }
  for (int i = histograms; i < series; ++i) {
    s.Put(SeriesKey(names::kStatusCodes, {{"status_code", std::to_string(200 + i % 5)},
                                          {"url", "/api/" + std::to_string(i)}}),
          Counter{static_cast<double>(rng() % 100'000)});
  }
  return s;
}

void BM_LeaderMerge(benchmark::State& state) {
  const int histograms = static_cast<int>(state.range(0));
  std::mt19937_64 rng(14);
  cluster::Aggregator agg;
  for (int n = 0; n < 100; ++n) {
    agg.Offer({{.node_id = "node-" + std::to_string(n),
                .region = "region-" + std::to_string(n % 4),
                .run_id = "run",
                .seq = 1},
               NodeSnapshot(rng, 200, histograms)},
              Nanos(0));
  }
  size_t series = 0;
  for (auto _ : state) {
    Snapshot merged = agg.Merged("run", Nanos(1));
    series = merged.size();
    benchmark::DoNotOptimize(merged);
  }
  state.counters["merged_series"] = static_cast<double>(series);
}
BENCHMARK(BM_LeaderMerge)->Arg(3)->Arg(150)->Unit(benchmark::kMillisecond);

// A 60 s run at 1,000 rps, cumulative.
Snapshot SingleRequestRun() {
  std::mt19937_64 rng(1);
  Snapshot s;
  s.Put(SeriesKey(names::kRequests), Counter{60'000});
  for (const char* code : {"200", "404", "500"}) {
    s.Put(SeriesKey(names::kStatusCodes, {{"status_code", code}}), Counter{20'000});
  }
  for (const char* cat : {"client_error", "server_error"}) {
    s.Put(SeriesKey(names::kErrors, {{"category", cat}}), Counter{20'000});
  }
  const char* trends[] = {names::kDuration,       names::kBlocked,        names::kConnecting,
                          names::kSending,        names::kWaiting,        names::kReceiving,
                          names::kTlsHandshaking, names::kIntendedLatency};
  const double medians[] = {2000, 5, 300, 20, 1800, 100, 800, 2100};
  for (int i = 0; i < 8; ++i) s.Put(SeriesKey(trends[i]), Latency(rng, 60'000, medians[i]));
  s.Put(SeriesKey(names::kDataSent), Counter{6e6});
  s.Put(SeriesKey(names::kDataReceived), Counter{6e7});
  s.Put(SeriesKey(names::kDroppedIterations), Counter{0});
  s.Put(SeriesKey(names::kStaleRetries), Counter{3});
  Gauge g;
  for (int i = 0; i < 60; ++i) g.Set(40 + i % 9);
  s.Put(SeriesKey(names::kConcurrentRequests), g);
  s.Put(SeriesKey("vus"), g);
  s.Put(SeriesKey("checks"), metrics::Rate{59'000, 60'000});
  s.Put(SeriesKey("iterations_total"), Counter{60'000});
  return s;
}

Snapshot ScenarioRun() {
  std::mt19937_64 rng(2);
  Snapshot s = SingleRequestRun();
  for (int sc = 0; sc < 5; ++sc) {
    const std::string scenario = "scenario-" + std::to_string(sc);
    s.Put(SeriesKey(names::kScenarioDuration, {{"scenario", scenario}}),
          Latency(rng, 1500, 40'000));
    s.Put(SeriesKey(names::kScenarioRequests, {{"scenario", scenario}}), Counter{12'000});
    for (int st = 0; st < 8; ++st) {
      const metrics::Labels base = {{"scenario", scenario}, {"step", "step-" + std::to_string(st)}};
      auto with = [&](const char* k, const char* v) {
        metrics::Labels l = base;
        l.emplace_back(k, v);
        return l;
      };
      s.Put(SeriesKey(names::kStepDuration, base), Latency(rng, 1500, 5000));
      for (const char* status : {"success", "failure"}) {
        s.Put(SeriesKey(names::kStepsTotal, with("status", status)), Counter{750});
      }
      for (const char* code : {"200", "302", "500"}) {
        s.Put(SeriesKey(names::kStepStatusCodes, with("status_code", code)), Counter{500});
      }
      for (const char* result : {"passed", "failed"}) {
        s.Put(SeriesKey(names::kAssertions, with("result", result)), Counter{750});
      }
    }
  }
  return s;
}

const Snapshot& Plan(int64_t which) {
  static const Snapshot single = SingleRequestRun(), scenario = ScenarioRun();
  return which == 0 ? single : scenario;
}

wire::node::MetricsBatch BatchOf(int64_t which) {
  return {{.node_id = "node-1", .region = "europe-west1", .run_id = "run-2026-12-03", .seq = 12},
          Plan(which)};
}

void BM_Encode(benchmark::State& state) {
  const auto batch = BatchOf(state.range(0));
  size_t bytes = 0;
  for (auto _ : state) {
    auto out = wire::node::EncodeMetricsBatch(batch);
    bytes = out->size();
    benchmark::DoNotOptimize(out);
  }
  std::string compressed;
  snappy::Compress(wire::node::EncodeMetricsBatch(batch)->data(), bytes, &compressed);
  state.counters["series"] = static_cast<double>(batch.snapshot.size());
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["snappy_bytes"] = static_cast<double>(compressed.size());
  state.SetLabel(state.range(0) == 0 ? "single" : "scenario");
}
BENCHMARK(BM_Encode)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_Decode(benchmark::State& state) {
  const std::string bytes = *wire::node::EncodeMetricsBatch(BatchOf(state.range(0)));
  for (auto _ : state) {
    auto batch = wire::node::DecodeMetricsBatch(bytes);
    benchmark::DoNotOptimize(batch);
  }
  state.counters["bytes"] = static_cast<double>(bytes.size());
  state.SetLabel(state.range(0) == 0 ? "single" : "scenario");
}
BENCHMARK(BM_Decode)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
