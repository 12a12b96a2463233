// The trend histogram: log-linear buckets, the same bucketing as k6's cloud protocol v2
// (specs/k6-metrics-v2.md, "Histogram bucketing"), so converting to the wire needs no
// re-bucketing. Values are scaled to integer "units" by a minimum resolution (1 µs for
// durations in seconds); units below 256 get a bucket each, and every power of two above
// splits into 128 buckets, so a bucket is at most 1/128 of its lower bound wide. Merging
// adds counts and is exact; min, max, sum and count are kept exactly beside the buckets.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace volley::metrics {

// Not thread-safe: a Histogram is confined to one thread at a time (a worker's shard
// records into its own; the collector merges copies). Copyable and movable.
class Histogram {
 public:
  static constexpr uint32_t kSubBucketBits = 7;  // 128 buckets per power of two
  static constexpr uint32_t kLinearLimit = 256;  // units below this map to index == units
  // BucketIndex(UINT64_MAX) + 1: the dense storage never holds more buckets than this.
  static constexpr uint32_t kNumBuckets = 7424;
  static constexpr uint32_t kMaxIndex = kNumBuckets - 1;

  // `min_resolution` (> 0, finite) is the value of one unit: 1e-6 records seconds with
  // microsecond buckets. It is fixed for the histogram's life.
  explicit Histogram(double min_resolution = 1e-6);
  // A copy holds the buckets only up to the highest non-empty one, so the copies a shard
  // hands over each tick (and the intervals kept of them) do not carry the empty top of a
  // storage that once grew for an outlier. Moves keep the storage as it is.
  Histogram(const Histogram& other);
  Histogram& operator=(const Histogram& other);
  Histogram(Histogram&&) noexcept = default;
  Histogram& operator=(Histogram&&) noexcept = default;

  // The hot path: records one sample already scaled to units (the engine passes
  // microseconds rounded up). No allocation once the buckets have grown to cover the
  // value; min/max/sum are kept in units (sum in 128 bits, so it cannot overflow).
  void RecordUnits(uint64_t units) {
    const uint32_t index = BucketIndex(units);
    if (index >= counts_.size()) [[unlikely]] {
      Grow(index);
    }
    ++counts_[index];
    ++count_;
    sum_units_ += units;
    min_units_ = std::min(min_units_, units);
    max_units_ = std::max(max_units_, units);
  }

  // The general path: scales by min_resolution and rounds up (u = ceil(value / res), as
  // the spec says; binary floating point can put an exact multiple of the resolution one
  // unit higher, e.g. 3e-6 / 1e-6 = 3.0000000000000004 → 4). Negative values count in
  // extra_low(), values whose units exceed the uint64 range (and +inf) in extra_high();
  // both still count in count(), min(), max() and sum(). NaN is ignored entirely.
  void Record(double value);

  // The bucket of a scaled value: u if u < 256, else (n << 7) + (u >> n) with
  // n = msb(u) - 7. Branch-free; the result is at most kMaxIndex.
  static constexpr uint32_t BucketIndex(uint64_t units) {
    const int msb = std::bit_width(units | 1) - 1;
    const int n = msb > 7 ? msb - 7 : 0;  // n == 0 gives index == units for units < 256
    return static_cast<uint32_t>((static_cast<uint64_t>(n) << kSubBucketBits) + (units >> n));
  }
  // The smallest and largest unit value that map to `index` (index <= kMaxIndex).
  static constexpr uint64_t BucketLowerUnits(uint32_t index) {
    if (index < kLinearLimit) return index;
    const uint32_t n = (index >> kSubBucketBits) - 1;
    const uint64_t sub = index - (n << kSubBucketBits);
    return sub << n;
  }
  static constexpr uint64_t BucketUpperUnits(uint32_t index) {
    if (index < kLinearLimit) return index;
    const uint32_t n = (index >> kSubBucketBits) - 1;
    const uint64_t sub = index - (n << kSubBucketBits);
    return ((sub + 1) << n) - 1;  // wraps to UINT64_MAX for the last bucket, as intended
  }

  // Adds `other`'s samples to this one: exact (bucket counts add). Returns false and
  // changes nothing if the resolutions differ.
  bool Merge(const Histogram& other);
  // Forgets every sample; keeps the resolution and the grown storage (no reallocation).
  void Reset();

  // Nearest-rank percentile for q in [0, 100] (out-of-range q is clamped): the sample of
  // rank ceil(q/100 * count()), at least 1. q = 0 returns min() and a rank of count()
  // returns max(), exactly. Otherwise the answer is the midpoint of the rank's bucket
  // [lo, hi] in units, times min_resolution, clamped to [min(), max()]: exact for
  // integer unit values below 256 (lo == hi), and for any sample in the bucket's real range
  // (lo - 1, hi] off by at most (width + 1) / 2 units, under 1/170 relative (the spec bound
  // is 1/128). The midpoint halves the worst case of either bound. A rank that falls in
  // extra_low() returns min(), in extra_high() max(). 0 when empty.
  double Percentile(double q) const;

  // Samples whose bucket's upper bound is <= value (a Prometheus `le` bucket). value is
  // converted to units and rounded down, after snapping a quotient within 1e-9 (relative)
  // of an integer to it, so 0.005 at 1e-6 means 5000 units. Extra-low samples count when
  // value >= 0. If value >= max() every sample counts. Otherwise this is a lower bound:
  // only samples in the one bucket straddling value are left out.
  uint64_t CountAtOrBelow(double value) const;

  // Calls f(uint32_t index, uint64_t count) for every non-empty bucket, in index order.
  template <class F>
  void ForEachBucket(F f) const {
    for (size_t i = 0; i < counts_.size(); ++i) {
      if (counts_[i] != 0) f(static_cast<uint32_t>(i), counts_[i]);
    }
  }

  // Rebuilds a histogram from its wire parts (used by decoders). `buckets` are (index,
  // count) pairs in any order. Returns false (leaving *out untouched) if an index exceeds
  // kMaxIndex, min_resolution is not > 0, or the counts overflow.
  static bool FromParts(double min_resolution,
                        const std::vector<std::pair<uint32_t, uint64_t>>& buckets,
                        uint64_t extra_low, uint64_t extra_high, double min, double max, double sum,
                        Histogram* out);

  // The exact accumulators kept beside the buckets, one set per recording path, so that a
  // wire codec can rebuild a histogram equal (operator==) to the one it encoded, and the
  // units sum stays exact in 128 bits across nodes. Not needed to read values: use
  // min(), max(), sum().
  struct Accumulators {
    // RecordUnits samples: min_units > max_units (UINT64_MAX, 0) while there are none.
    uint64_t sum_units_lo = 0;  // the 128-bit units sum, low and high 64 bits
    uint64_t sum_units_hi = 0;
    uint64_t min_units = UINT64_MAX;
    uint64_t max_units = 0;
    // Record(double) and FromParts samples: +inf / -inf while there are none.
    double sum_double = 0;
    double min_double = std::numeric_limits<double>::infinity();
    double max_double = -std::numeric_limits<double>::infinity();
    friend bool operator==(const Accumulators&, const Accumulators&) = default;
  };
  Accumulators accumulators() const;
  // Rebuilds a histogram from its exact parts (the inverse of ForEachBucket, extra_low(),
  // extra_high() and accumulators()). Checks only what the storage needs, as FromParts
  // does: false (*out untouched) if an index exceeds kMaxIndex, min_resolution is not
  // finite and > 0, or the counts overflow. Whether the accumulators are plausible (no
  // NaN, min <= max) is the caller's (a decoder's) to check.
  static bool FromExactParts(double min_resolution,
                             const std::vector<std::pair<uint32_t, uint64_t>>& buckets,
                             uint64_t extra_low, uint64_t extra_high, const Accumulators& acc,
                             Histogram* out);

  // Every recorded sample, including the extra-low and extra-high ones.
  uint64_t count() const { return count_; }
  // Exact smallest/largest recorded value; 0 when empty.
  double min() const;
  double max() const;
  // Sum of recorded values (units path exact in 128 bits, double path in double); 0 empty.
  double sum() const;
  // sum() / count(), 0 when empty.
  double mean() const;
  uint64_t extra_low() const { return extra_low_; }
  uint64_t extra_high() const { return extra_high_; }
  double min_resolution() const { return min_resolution_; }
  // Count in one bucket (0 for an index never grown to).
  uint64_t BucketCount(uint32_t index) const { return index < counts_.size() ? counts_[index] : 0; }
  // Buckets held in storage (8 bytes each), for memory accounting.
  size_t storage_buckets() const { return counts_.size(); }

  // Exact equality of resolution, bucket counts (storage size aside), extra counters and
  // the min/max/sum accumulators of each path. So the same samples recorded with
  // RecordUnits, split and merged in any order, compare equal; through Record(double) the
  // double sum may differ by rounding with the order of additions.
  friend bool operator==(const Histogram& a, const Histogram& b);

 private:
  __extension__ using Uint128 = unsigned __int128;

  void Grow(uint32_t index);
  bool HasUnits() const { return max_units_ >= min_units_; }

  double min_resolution_;
  std::vector<uint64_t> counts_;  // dense, indexed by bucket; grows to the highest index
  uint64_t count_ = 0;
  uint64_t extra_low_ = 0;
  uint64_t extra_high_ = 0;
  // Samples recorded with RecordUnits (min > max while there are none).
  Uint128 sum_units_ = 0;
  uint64_t min_units_ = UINT64_MAX;
  uint64_t max_units_ = 0;
  // Samples recorded with Record(double) or restored by FromParts.
  double sum_double_ = 0;
  double min_double_;  // +inf while empty
  double max_double_;  // -inf while empty
};

}  // namespace volley::metrics
