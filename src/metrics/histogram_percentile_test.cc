// Percentiles of the histogram against exact nearest-rank percentiles of the sorted
// samples, on 10^6-sample distributions with a fixed seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "volley/metrics/histogram.h"

namespace volley::metrics {
namespace {

constexpr size_t kSamples = 1'000'000;
constexpr double kRes = 1e-6;  // seconds with 1 µs units, as the engine records
// The documented worst case: (width + 1) / 2 units off a sample above lo - 1 = 255.
constexpr double kDocumentedBound = 1.5 / 255;

struct Errors {
  double max_relative = 0;  // over exact values >= 256 units
  int checked = 0;
};

// Checks one percentile; `rank` is the 1-based nearest rank computed by the caller.
void Check(const Histogram& h, const std::vector<double>& sorted, double q, uint64_t rank,
           Errors* errors) {
  const double exact = sorted[rank - 1];
  const double got = h.Percentile(q);
  const double error = std::fabs(got - exact);
  if (exact / kRes >= 256) {
    const double relative = error / exact;
    EXPECT_LE(relative, 1.0 / 128) << "q=" << q << " exact=" << exact << " got=" << got;
    errors->max_relative = std::max(errors->max_relative, relative);
  } else {
    // Below 256 units a bucket is one unit: (u - 1, u] for a real value.
    EXPECT_LT(error, kRes * (1 + 1e-9)) << "q=" << q << " exact=" << exact << " got=" << got;
  }
  ++errors->checked;
}

Errors CheckDistribution(std::vector<double> samples) {
  Histogram h(kRes);
  for (double v : samples) h.Record(v);
  std::sort(samples.begin(), samples.end());
  const uint64_t n = samples.size();
  EXPECT_EQ(h.count(), n);
  EXPECT_EQ(h.min(), samples.front());
  EXPECT_EQ(h.max(), samples.back());

  Errors errors;
  Check(h, samples, 50, n / 2, &errors);
  Check(h, samples, 90, n * 9 / 10, &errors);
  Check(h, samples, 99, n * 99 / 100, &errors);
  Check(h, samples, 99.9, n * 999 / 1000, &errors);
  Check(h, samples, 99.99, n * 9999 / 10000, &errors);
  EXPECT_EQ(h.Percentile(100), samples.back());
  EXPECT_EQ(h.Percentile(0), samples.front());
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> qs(0.001, 99.999);
  for (int i = 0; i < 200; ++i) {
    const double q = qs(rng);
    const auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(n) / 100));
    Check(h, samples, q, std::max<uint64_t>(rank, 1), &errors);
  }
  EXPECT_EQ(errors.checked, 205);
  EXPECT_LE(errors.max_relative, kDocumentedBound);
  return errors;
}

TEST(HistogramPercentile, UniformWithinBound) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> dist(0, 2.0);  // 0..2 s
  std::vector<double> samples(kSamples);
  for (double& v : samples) v = dist(rng);
  const Errors e = CheckDistribution(std::move(samples));
  EXPECT_GT(e.max_relative, 0);  // the buckets are coarse: the check above was not vacuous
}

TEST(HistogramPercentile, ExponentialWithinBound) {
  std::mt19937_64 rng(2);
  std::exponential_distribution<double> dist(1 / 0.010);  // mean 10 ms
  std::vector<double> samples(kSamples);
  for (double& v : samples) v = dist(rng);
  CheckDistribution(std::move(samples));
}

TEST(HistogramPercentile, BimodalWithinBound) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> fast(0.005, 0.001);  // cache hits around 5 ms
  std::normal_distribution<double> slow(0.200, 0.020);  // misses around 200 ms
  std::bernoulli_distribution is_slow(0.1);
  std::vector<double> samples(kSamples);
  for (double& v : samples) v = std::max(0.0, is_slow(rng) ? slow(rng) : fast(rng));
  CheckDistribution(std::move(samples));
}

TEST(HistogramPercentile, ParetoHeavyTailWithinBound) {
  std::mt19937_64 rng(4);
  std::uniform_real_distribution<double> uniform(0, 1);
  const double xm = 0.001, alpha = 1.2;  // 1 ms minimum, tail to ~100 s
  std::vector<double> samples(kSamples);
  for (double& v : samples) v = xm / std::pow(1 - uniform(rng), 1 / alpha);
  const Errors e = CheckDistribution(std::move(samples));
  EXPECT_GT(e.max_relative, 0);
}

TEST(HistogramPercentile, IntegerUnitsBelow256AreExact) {
  std::mt19937_64 rng(5);
  std::vector<uint64_t> units(kSamples);
  Histogram h(1.0);
  for (uint64_t& u : units) {
    u = rng() % 256;
    h.RecordUnits(u);
  }
  std::sort(units.begin(), units.end());
  for (double q : {1.0, 25.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    const auto rank = static_cast<uint64_t>(std::llround(q * kSamples / 100));
    EXPECT_EQ(h.Percentile(q), static_cast<double>(units[rank - 1])) << q;
  }
}

TEST(HistogramPercentile, UnitsPathWideRangeWithinBound) {
  // 1 µs .. 1 h, log-uniform, recorded as the engine does (integer microseconds).
  std::mt19937_64 rng(6);
  std::uniform_real_distribution<double> exponent(0, std::log(3.6e9));
  std::vector<uint64_t> units(kSamples);
  Histogram h(kRes);
  for (uint64_t& u : units) {
    u = static_cast<uint64_t>(std::ceil(std::exp(exponent(rng))));
    h.RecordUnits(u);
  }
  std::sort(units.begin(), units.end());
  for (double q : {10.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
    const auto rank = static_cast<uint64_t>(std::llround(q * kSamples / 100));
    const double exact = static_cast<double>(units[rank - 1]) * kRes;
    if (units[rank - 1] < 256) {
      EXPECT_DOUBLE_EQ(h.Percentile(q), exact) << q;
    } else {
      EXPECT_LE(std::fabs(h.Percentile(q) - exact) / exact, kDocumentedBound) << q;
    }
  }
  EXPECT_DOUBLE_EQ(h.Percentile(100), static_cast<double>(units.back()) * kRes);
}

}  // namespace
}  // namespace volley::metrics
