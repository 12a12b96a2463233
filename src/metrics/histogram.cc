#include "volley/metrics/histogram.h"

#include <cassert>
#include <cmath>
#include <limits>

namespace volley::metrics {

static_assert(Histogram::BucketIndex(UINT64_MAX) == Histogram::kMaxIndex);
static_assert(Histogram::BucketIndex(255) == 255 && Histogram::BucketIndex(256) == 256);
static_assert(Histogram::BucketUpperUnits(Histogram::kMaxIndex) == UINT64_MAX);

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kTwoTo64 = 18446744073709551616.0;

// The nearest-rank rank (1-based) of percentile q among n samples. q * n / 100 carries a
// few ulps of rounding noise (99.9 * 1e6 / 100 = 999000.0000000001), which must not push
// the rank up by one; shaving 4 ulps (relative) removes it and moves no larger fraction.
uint64_t NearestRank(double q, uint64_t n) {
  const double exact = q / 100.0 * static_cast<double>(n);
  const double rank = std::ceil(exact * (1.0 - 4 * std::numeric_limits<double>::epsilon()));
  if (rank < 1) return 1;
  if (rank >= static_cast<double>(n)) return n;
  return static_cast<uint64_t>(rank);
}

}  // namespace

Histogram::Histogram(double min_resolution)
    : min_resolution_(min_resolution), min_double_(kInf), max_double_(-kInf) {
  assert(min_resolution > 0 && std::isfinite(min_resolution));
}

Histogram::Histogram(const Histogram& other) : min_resolution_(other.min_resolution_) {
  *this = other;
}

Histogram& Histogram::operator=(const Histogram& other) {
  if (this == &other) return *this;
  size_t used = other.counts_.size();
  while (used > 0 && other.counts_[used - 1] == 0) --used;
  counts_.assign(other.counts_.begin(), other.counts_.begin() + used);
  min_resolution_ = other.min_resolution_;
  count_ = other.count_;
  extra_low_ = other.extra_low_;
  extra_high_ = other.extra_high_;
  sum_units_ = other.sum_units_;
  min_units_ = other.min_units_;
  max_units_ = other.max_units_;
  sum_double_ = other.sum_double_;
  min_double_ = other.min_double_;
  max_double_ = other.max_double_;
  return *this;
}

void Histogram::Grow(uint32_t index) {
  // Geometric growth up to the fixed maximum: a few reallocations per histogram, ever.
  size_t size = std::max<size_t>(counts_.size() * 2, index + 1);
  size = std::min<size_t>(std::max<size_t>(size, 64), kNumBuckets);
  counts_.resize(size, 0);
}

void Histogram::Record(double value) {
  if (std::isnan(value)) return;
  ++count_;
  sum_double_ += value;
  min_double_ = std::min(min_double_, value);
  max_double_ = std::max(max_double_, value);
  const double scaled = value / min_resolution_;
  if (scaled < 0) {
    ++extra_low_;
    return;
  }
  const double units = std::ceil(scaled);
  if (!(units < kTwoTo64)) {
    ++extra_high_;
    return;
  }
  const uint32_t index = BucketIndex(static_cast<uint64_t>(units));
  if (index >= counts_.size()) Grow(index);
  ++counts_[index];
}

bool Histogram::Merge(const Histogram& other) {
  if (other.min_resolution_ != min_resolution_) return false;
  if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  extra_low_ += other.extra_low_;
  extra_high_ += other.extra_high_;
  sum_units_ += other.sum_units_;
  min_units_ = std::min(min_units_, other.min_units_);
  max_units_ = std::max(max_units_, other.max_units_);
  sum_double_ += other.sum_double_;
  min_double_ = std::min(min_double_, other.min_double_);
  max_double_ = std::max(max_double_, other.max_double_);
  return true;
}

void Histogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = extra_low_ = extra_high_ = 0;
  sum_units_ = 0;
  min_units_ = UINT64_MAX;
  max_units_ = 0;
  sum_double_ = 0;
  min_double_ = kInf;
  max_double_ = -kInf;
}

double Histogram::min() const {
  if (count_ == 0) return 0;
  double m = min_double_;
  if (HasUnits()) m = std::min(m, static_cast<double>(min_units_) * min_resolution_);
  return m;
}

double Histogram::max() const {
  if (count_ == 0) return 0;
  double m = max_double_;
  if (HasUnits()) m = std::max(m, static_cast<double>(max_units_) * min_resolution_);
  return m;
}

double Histogram::sum() const {
  return static_cast<double>(sum_units_) * min_resolution_ + sum_double_;
}

double Histogram::mean() const { return count_ == 0 ? 0 : sum() / static_cast<double>(count_); }

double Histogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  if (!(q > 0)) return min();  // also NaN
  const uint64_t rank = NearestRank(std::min(q, 100.0), count_);
  if (rank == count_) return max();
  uint64_t seen = extra_low_;
  if (rank <= seen) return min();
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const auto index = static_cast<uint32_t>(i);
      const double lo = static_cast<double>(BucketLowerUnits(index));
      const double hi = static_cast<double>(BucketUpperUnits(index));
      const double mid = (lo + hi) / 2 * min_resolution_;
      return std::clamp(mid, min(), max());
    }
  }
  return max();  // the rank is among the extra-high samples
}

uint64_t Histogram::CountAtOrBelow(double value) const {
  if (count_ == 0 || std::isnan(value)) return 0;
  if (value >= max()) return count_;
  if (value < 0) return 0;
  double units = value / min_resolution_;
  const double nearest = std::nearbyint(units);
  if (std::fabs(units - nearest) <= 1e-9 * std::max(1.0, units)) units = nearest;
  units = std::floor(units);
  uint64_t total = extra_low_;
  // Buckets below the one holding limit + 1 end at or below limit.
  size_t end = counts_.size();
  if (units < kTwoTo64 - 1) {
    end = std::min<size_t>(end, BucketIndex(static_cast<uint64_t>(units) + 1));
  }
  for (size_t i = 0; i < end; ++i) total += counts_[i];
  return total;
}

bool Histogram::FromParts(double min_resolution,
                          const std::vector<std::pair<uint32_t, uint64_t>>& buckets,
                          uint64_t extra_low, uint64_t extra_high, double min, double max,
                          double sum, Histogram* out) {
  if (!(min_resolution > 0) || !std::isfinite(min_resolution)) return false;
  Histogram h(min_resolution);
  uint64_t total = 0;
  for (const auto& [index, n] : buckets) {
    if (index > kMaxIndex) return false;
    if (index >= h.counts_.size()) h.Grow(index);
    if (__builtin_add_overflow(h.counts_[index], n, &h.counts_[index])) return false;
    if (__builtin_add_overflow(total, n, &total)) return false;
  }
  if (__builtin_add_overflow(total, extra_low, &total)) return false;
  if (__builtin_add_overflow(total, extra_high, &total)) return false;
  h.count_ = total;
  h.extra_low_ = extra_low;
  h.extra_high_ = extra_high;
  if (total > 0) {
    h.min_double_ = min;
    h.max_double_ = max;
    h.sum_double_ = sum;
  }
  *out = std::move(h);
  return true;
}

Histogram::Accumulators Histogram::accumulators() const {
  Accumulators acc;
  acc.sum_units_lo = static_cast<uint64_t>(sum_units_);
  acc.sum_units_hi = static_cast<uint64_t>(sum_units_ >> 64);
  acc.min_units = min_units_;
  acc.max_units = max_units_;
  acc.sum_double = sum_double_;
  acc.min_double = min_double_;
  acc.max_double = max_double_;
  return acc;
}

bool Histogram::FromExactParts(double min_resolution,
                               const std::vector<std::pair<uint32_t, uint64_t>>& buckets,
                               uint64_t extra_low, uint64_t extra_high, const Accumulators& acc,
                               Histogram* out) {
  Histogram h(1);
  if (!FromParts(min_resolution, buckets, extra_low, extra_high, 0, 0, 0, &h)) return false;
  h.sum_units_ = (Uint128{acc.sum_units_hi} << 64) | acc.sum_units_lo;
  h.min_units_ = acc.min_units;
  h.max_units_ = acc.max_units;
  h.sum_double_ = acc.sum_double;
  h.min_double_ = acc.min_double;
  h.max_double_ = acc.max_double;
  *out = std::move(h);
  return true;
}

bool operator==(const Histogram& a, const Histogram& b) {
  if (a.min_resolution_ != b.min_resolution_ || a.count_ != b.count_ ||
      a.extra_low_ != b.extra_low_ || a.extra_high_ != b.extra_high_ ||
      a.sum_units_ != b.sum_units_ || a.min_units_ != b.min_units_ ||
      a.max_units_ != b.max_units_ || a.sum_double_ != b.sum_double_ ||
      a.min_double_ != b.min_double_ || a.max_double_ != b.max_double_) {
    return false;
  }
  const size_t common = std::min(a.counts_.size(), b.counts_.size());
  if (!std::equal(a.counts_.begin(), a.counts_.begin() + common, b.counts_.begin())) {
    return false;
  }
  const auto& longer = a.counts_.size() > b.counts_.size() ? a.counts_ : b.counts_;
  return std::all_of(longer.begin() + common, longer.end(), [](uint64_t c) { return c == 0; });
}

}  // namespace volley::metrics
