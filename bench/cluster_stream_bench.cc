// Cluster III (issue 14): the leader's CPU per flush interval for 100 nodes streaming to
// it. One iteration is what the leader does in one METRICS_FLUSH_INTERVAL_SECS: decode and
// offer 100 nodes' cumulative batches (cluster::LeaderMetrics::OnBatch, the hardened
// decoder included), look for due checkpoints, and answer one Prometheus scrape of the
// merged run (Merged + RenderPrometheus). Each node's batch: 200 series, 3 of them latency
// histograms of ~5,000 log-normal samples around 20 ms (the bar's "3 latency histograms"),
// the rest counters; counter `batch_bytes` is the wire size of one batch.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "volley/cluster/leader_metrics.h"
#include "volley/metrics/names.h"
#include "volley/output/prometheus.h"
#include "volley/wire/volley_metrics.h"

namespace {

using namespace volley;
using metrics::Counter;
using metrics::Histogram;
using metrics::SeriesKey;
using metrics::Snapshot;
namespace names = metrics::names;

Snapshot NodeSnapshot(std::mt19937_64& rng) {
  Snapshot s;
  static const char* kPhases[] = {names::kDuration, names::kWaiting, names::kBlocked};
  for (const char* phase : kPhases) {
    std::lognormal_distribution<double> d(std::log(20'000.0), 0.6);
    Histogram h;
    for (int i = 0; i < 5000; ++i) h.RecordUnits(static_cast<uint64_t>(d(rng)) + 1);
    s.Put(SeriesKey(phase), h);
  }
  s.Put(SeriesKey(names::kRequests), Counter{static_cast<double>(rng() % 100'000)});
  for (int i = 4; i < 200; ++i) {
    s.Put(SeriesKey(names::kStatusCodes, {{"status_code", std::to_string(200 + i % 5)},
                                          {"url", "/api/" + std::to_string(i)}}),
          Counter{static_cast<double>(rng() % 100'000)});
  }
  return s;
}

void BM_LeaderFlush100Nodes(benchmark::State& state) {
  std::mt19937_64 rng(14);
  std::vector<Snapshot> snaps;
  for (int n = 0; n < 100; ++n) snaps.push_back(NodeSnapshot(rng));
  cluster::LeaderMetrics leader;
  uint64_t seq = 0;
  size_t bytes_per_batch = 0, exposition = 0;
  // Batches are encoded outside the timing (that is the nodes' CPU, not the leader's).
  auto encode = [&](uint64_t s) {
    std::vector<std::string> out;
    for (int n = 0; n < 100; ++n) {
      wire::node::MetricsBatch b;
      b.id = {"node-" + std::to_string(n), "region-" + std::to_string(n % 4), "run", s, 0, false};
      b.snapshot = snaps[n];
      out.push_back(*wire::node::EncodeMetricsBatch(b));
    }
    bytes_per_batch = out[0].size();
    return out;
  };
  std::vector<std::string> batches = encode(1);
  const output::ExpositionOptions options;
  for (auto _ : state) {
    state.PauseTiming();
    batches = encode(++seq);
    state.ResumeTiming();
    const Nanos now{std::chrono::seconds(seq)};
    for (int n = 0; n < 100; ++n) {
      auto r = leader.OnBatch("node-" + std::to_string(n), batches[n], now);
      benchmark::DoNotOptimize(r);
    }
    auto due = leader.DueCheckpoints("node-0", now);
    benchmark::DoNotOptimize(due);
    const std::string text = output::RenderPrometheus(leader.Merged("run", now), options);
    exposition = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["batch_bytes"] = static_cast<double>(bytes_per_batch);
  state.counters["scrape_bytes"] = static_cast<double>(exposition);
}
BENCHMARK(BM_LeaderFlush100Nodes)->Unit(benchmark::kMillisecond)->MinTime(2);

}  // namespace
