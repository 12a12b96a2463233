// Shard: one worker thread's metrics (DESIGN.md §3). Series are registered once and then
// recorded through plain pointers: the hot path takes no lock, touches no atomic and
// allocates nothing. Once per tick the owner calls TakeDelta() and hands the result to the
// Collector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>

#include "volley/metrics/snapshot.h"

namespace volley::metrics {

// The label that replaces the labels of series folded by the cardinality bound:
// `name{volley_overflow="true"}`. Not `__`-prefixed, on purpose: Prometheus reserves such
// label names and the k6 cloud protocol drops such tags, which would silently merge the
// overflow into the label-less series instead of showing it.
inline constexpr const char* kOverflowLabelKey = "volley_overflow";
inline constexpr const char* kOverflowLabelValue = "true";

// Not thread-safe: owned by one thread (a worker), which is the only one to call any
// method, including TakeDelta(). Pointers returned by Get* stay valid, and keep naming the
// same series, for the shard's whole life (node-based storage; TakeDelta resets values in
// place).
class Shard {
 public:
  // At most `max_series` distinct series are registered; further new keys fold into one
  // overflow series per name (see Get*).
  explicit Shard(size_t max_series = 10000);
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Registration: the series' value, created zeroed on first use; the same key returns the
  // same pointer. When max_series series exist, a new key returns the series
  // `name{volley_overflow="true"}` (created beyond the bound if needed, one per name) and
  // counts a fold. Returns nullptr if the key (or its overflow series) is already
  // registered with another type, or, for trends, with another min_resolution: a
  // programming error the caller should assert on. Meant for setup or the first sight of
  // a label value, not per request: it looks up an ordered map.
  Counter* GetCounter(const SeriesKey& key);
  Gauge* GetGauge(const SeriesKey& key);
  Rate* GetRate(const SeriesKey& key);
  Histogram* GetTrend(const SeriesKey& key, double min_resolution = 1e-6);

  // Copies the values recorded since the previous call into a Snapshot and resets them in
  // place: counters to 0, rates to 0/0, histograms Reset() (storage kept), gauges keep
  // `last` and reset min/max/sum/count (Gauge::ResetPeriod). Registrations and pointers
  // stay valid. Included: every gauge, every series registered since the previous call
  // (so a counter that stays 0 is still seen once), and every other series with activity
  // (counter != 0, rate total > 0, histogram count > 0); idle ones are omitted.
  Snapshot TakeDelta();

  // Registered series, overflow series included.
  size_t series_count() const { return series_.size(); }
  size_t max_series() const { return max_series_; }
  // Get* calls that were folded into an overflow series (the same new key asked for
  // twice counts twice: the shard does not remember keys it refused).
  uint64_t folded_series() const { return folded_; }

 private:
  struct Entry {
    MetricValue value;
    bool fresh = true;  // registered since the last TakeDelta
  };

  // The entry for `key` (or its overflow series), created from `initial` if new; nullptr
  // on a type or resolution clash.
  MetricValue* Register(const SeriesKey& key, const MetricValue& initial);

  const size_t max_series_;
  std::map<SeriesKey, Entry> series_;
  uint64_t folded_ = 0;
};

}  // namespace volley::metrics
