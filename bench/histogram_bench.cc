// Histogram micro-benchmarks: the engine's per-request record, the collector's merge and
// the report's percentile. Targets: record <= 5 ns/value, merge <= 20 µs.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "volley/metrics/histogram.h"

namespace volley::metrics {
namespace {

constexpr size_t kValues = 1 << 16;  // a power of two: cheap wrap-around

// Latency-like values in microseconds: log-uniform over [1 µs, max_units].
std::vector<uint64_t> Units(double max_units, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> exponent(0, std::log(max_units));
  std::vector<uint64_t> out(kValues);
  for (uint64_t& u : out) u = static_cast<uint64_t>(std::exp(exponent(rng)));
  return out;
}

Histogram Filled(uint64_t seed) {
  Histogram h;
  for (uint64_t u : Units(3.6e9, seed)) h.RecordUnits(u);  // 1 µs .. 1 h
  return h;
}

void BM_RecordUnits(benchmark::State& state) {
  const std::vector<uint64_t> values = Units(state.range(0), 1);
  Histogram h;
  size_t i = 0;
  for (auto _ : state) {
    h.RecordUnits(values[i++ & (kValues - 1)]);
  }
  benchmark::DoNotOptimize(h);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordUnits)->Arg(10'000'000)->Arg(3'600'000'000);  // up to 10 s; up to 1 h

// As the engine records: through a pointer, with every field stored back to memory after
// each sample (the compiler may not keep count/min/max/sum in registers across samples).
void BM_RecordUnitsThroughPointer(benchmark::State& state) {
  const std::vector<uint64_t> values = Units(1e7, 1);
  auto owned = std::make_unique<Histogram>();
  Histogram* h = owned.get();
  benchmark::DoNotOptimize(h);
  size_t i = 0;
  for (auto _ : state) {
    h->RecordUnits(values[i++ & (kValues - 1)]);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordUnitsThroughPointer);

void BM_RecordDouble(benchmark::State& state) {
  const std::vector<uint64_t> units = Units(1e7, 2);
  std::vector<double> values;
  for (uint64_t u : units) values.push_back(static_cast<double>(u) * 1.37e-6);
  Histogram h;
  size_t i = 0;
  for (auto _ : state) {
    h.Record(values[i++ & (kValues - 1)]);
  }
  benchmark::DoNotOptimize(h);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordDouble);

void BM_Merge(benchmark::State& state) {
  const Histogram a = Filled(3);
  const Histogram b = Filled(4);
  for (auto _ : state) {
    Histogram sum = a;  // the copy is part of a collector merge (Snapshot copies values)
    benchmark::DoNotOptimize(sum.Merge(b));
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_Merge);

void BM_MergeInto(benchmark::State& state) {
  const Histogram b = Filled(4);
  Histogram acc = Filled(3);
  for (auto _ : state) {
    benchmark::DoNotOptimize(acc.Merge(b));
  }
  benchmark::DoNotOptimize(acc);
}
BENCHMARK(BM_MergeInto);

void BM_Percentile(benchmark::State& state) {
  const Histogram h = Filled(5);
  const double q = static_cast<double>(state.range(0)) / 10;
  for (auto _ : state) {
    benchmark::DoNotOptimize(h.Percentile(q));
  }
}
BENCHMARK(BM_Percentile)->Arg(500)->Arg(990)->Arg(999);

}  // namespace
}  // namespace volley::metrics
