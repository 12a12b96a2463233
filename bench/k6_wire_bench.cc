// v1 JSON vs v2 protobuf+snappy for the same 60-second run (issue 6, "Numbers").
//
// The run: 50 series (endpoints: method x url x status labels, plus scenario) x 3 trend
// metrics (request_duration, waiting, blocked, in seconds) at 20 requests/s per series,
// 60 s: 60,000 requests, 180,000 trend samples. Durations are log-normal around 20 ms
// (waiting ~ 0.8 x duration, blocked mostly ~5 us with rare ~1 ms connects).
// - v2: what the push sends: 3 s aggregation buckets, one histogram per series, metric and
//   bucket (50 x 3 x 20 = 3000 TrendHdrValues), in one MetricSet, snappy-compressed.
// - v1: what k6's v1 output sent for the same requests without aggregation: one "Points"
//   sample per request carrying the three values (k6's http_req_li_all shape), time in µs.
// - v1_aggregated (for reference): one AggregatedPoints per series and 3 s bucket with
//   min/max/avg only; smaller than raw v1 but it loses the distribution (no percentiles).
// Counters: wire_bytes per encoded body; v1_over_v2 the size ratio (the bar is >= 10).
#include <benchmark/benchmark.h>

#include <random>

#include "volley/wire/k6_metrics.h"
#include "volley/wire/k6_v1.h"

namespace {

using namespace volley;
using namespace volley::wire::k6;
using metrics::Histogram;
using metrics::MetricType;

constexpr int kSeries = 50, kSeconds = 60, kRate = 20, kPeriod = 3;
constexpr int64_t kStart = 1700000000;
const char* kMetrics[3] = {"request_duration_seconds", "request_waiting_seconds",
                           "request_blocked_seconds"};

struct Run {
  std::vector<V1Sample> v1;
  std::vector<V1Sample> v1_aggregated;
  MetricSetData v2;
};

metrics::Labels LabelsOf(int s) {
  static const char* kMethods[] = {"GET", "POST"};
  return {{"method", kMethods[s % 2]},
          {"scenario", "default"},
          {"status", s % 10 == 9 ? "503" : "200"},
          {"url", "https://api.example.com/v1/items/" + std::to_string(s)}};
}

const Run& TheRun() {
  static const Run run = [] {
    Run r;
    std::mt19937_64 rng(6);
    std::lognormal_distribution<double> duration(std::log(0.020), 0.5);
    std::uniform_real_distribution<double> unit(0, 1);
    for (int s = 0; s < kSeries; ++s) {
      const metrics::Labels labels = LabelsOf(s);
      std::vector<SeriesSamples> trends;
      for (const char* m : kMetrics) trends.push_back({m, MetricType::kTrend, labels, {}});
      for (int b = 0; b < kSeconds / kPeriod; ++b) {
        Histogram h[3] = {Histogram(1e-6), Histogram(1e-6), Histogram(1e-6)};
        for (int i = 0; i < kRate * kPeriod; ++i) {
          const double d = duration(rng);
          const double v[3] = {d, d * 0.8, unit(rng) < 0.01 ? 0.001 : 5e-6};
          const int64_t t_us = (kStart + b * kPeriod) * 1'000'000 + i * (1'000'000 / kRate);
          V1Points p{"http_req_li_all", t_us, MetricType::kTrend, labels, {}};
          for (int k = 0; k < 3; ++k) {
            h[k].Record(v[k]);
            p.values.emplace_back(kMetrics[k], v[k]);
          }
          r.v1.push_back(std::move(p));
        }
        V1AggregatedPoints a{"http_req_li_all",
                             (kStart + b * kPeriod) * 1'000'000,
                             MetricType::kTrend,
                             h[0].count(),
                             labels,
                             {}};
        for (int k = 0; k < 3; ++k) {
          a.values.emplace_back(kMetrics[k], V1Aggregate{h[k].min(), h[k].max(), h[k].mean()});
          trends[k].values.push_back({kStart + b * kPeriod, std::move(h[k])});
        }
        r.v1_aggregated.push_back(std::move(a));
      }
      for (auto& t : trends) r.v2.series.push_back(std::move(t));
    }
    r.v2.test_run_id = "bench";
    return r;
  }();
  return run;
}

std::string V2Body() { return SnappyCompress(EncodeMetricSet(TheRun().v2)); }

void BM_EncodeV2(benchmark::State& state) {
  std::string body;
  for (auto _ : state) benchmark::DoNotOptimize(body = V2Body());
  state.counters["wire_bytes"] = static_cast<double>(body.size());
  state.counters["v1_over_v2"] =
      static_cast<double>(EncodeV1(TheRun().v1).size()) / static_cast<double>(body.size());
}

void BM_DecodeV2(benchmark::State& state) {
  const std::string body = V2Body();
  for (auto _ : state) {
    auto data = DecodeMetricSet(SnappyUncompress(body, 1 << 26).value());
    benchmark::DoNotOptimize(data);
    if (!data || data->series.size() != 150) state.SkipWithError("decode failed");
  }
  state.counters["wire_bytes"] = static_cast<double>(body.size());
}

void BM_EncodeV1(benchmark::State& state, bool aggregated) {
  const auto& samples = aggregated ? TheRun().v1_aggregated : TheRun().v1;
  std::string body;
  for (auto _ : state) benchmark::DoNotOptimize(body = EncodeV1(samples));
  state.counters["wire_bytes"] = static_cast<double>(body.size());
}

void BM_DecodeV1(benchmark::State& state, bool aggregated) {
  const std::string body = EncodeV1(aggregated ? TheRun().v1_aggregated : TheRun().v1);
  for (auto _ : state) {
    auto samples = DecodeV1(body);
    benchmark::DoNotOptimize(samples);
    if (!samples) state.SkipWithError("decode failed");
  }
  state.counters["wire_bytes"] = static_cast<double>(body.size());
}

BENCHMARK(BM_EncodeV2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeV2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeV1, raw, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DecodeV1, raw, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_EncodeV1, aggregated, true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DecodeV1, aggregated, true)->Unit(benchmark::kMillisecond);

}  // namespace
