// Snapshot: the one canonical result model every output formats (DESIGN.md §3, §6). A
// value type mapping each series to its value; a worker shard's delta, an interval of the
// collector and the cumulative result since the start are all Snapshots.
#pragma once

#include <cstddef>
#include <map>
#include <string_view>
#include <variant>

#include "volley/metrics/histogram.h"
#include "volley/metrics/series.h"

namespace volley::metrics {

// Alternative order follows MetricType: index() == static_cast<size_t>(type).
using MetricValue = std::variant<Counter, Gauge, Rate, Histogram>;

inline MetricType TypeOf(const MetricValue& value) {
  return static_cast<MetricType>(value.index());
}

// Not thread-safe (a plain value: copy it, move it, confine each copy to one thread).
class Snapshot {
 public:
  using Map = std::map<SeriesKey, MetricValue>;

  // Inserts or replaces one series. Cheapest when keys arrive in ascending order.
  void Put(SeriesKey key, MetricValue value);

  // Folds `newer` into this snapshot, as when accumulating one source's deltas over time
  // or several workers' deltas of the same interval. Series only in `newer` are copied.
  // For series in both: counters add; rates add both counts; histograms Merge (exact);
  // gauges take `newer`'s `last` (it is the later value of the one source a gauge should
  // have) and combine min, max, sum and count. A series whose type (or histogram
  // resolution) differs between the two keeps this snapshot's value, and is counted in the
  // return value: the number of series of `newer` that could not be merged.
  size_t Merge(const Snapshot& newer);

  // The value of one series; nullptr if it is absent or of another type. `labels` need
  // not be sorted.
  const MetricValue* Find(const SeriesKey& key) const;
  const Counter* FindCounter(std::string_view name, const Labels& labels = {}) const;
  const Gauge* FindGauge(std::string_view name, const Labels& labels = {}) const;
  const Rate* FindRate(std::string_view name, const Labels& labels = {}) const;
  const Histogram* FindTrend(std::string_view name, const Labels& labels = {}) const;

  // Sum of the counters of every label set of `name` (0 if none).
  double SumCounter(std::string_view name) const;
  // Both counts of the rates of every label set of `name` added.
  Rate SumRate(std::string_view name) const;
  // The union of the samples of every trend series of `name`: the exact merged
  // histogram. Its resolution is that of the first series (in key order); series with
  // another resolution are skipped. An empty 1e-6 histogram if there is none.
  Histogram MergedTrend(std::string_view name) const;

  // Calls f(const SeriesKey&, const MetricValue&) for each series of `name`, in order.
  template <class F>
  void ForEachOfName(std::string_view name, F f) const {
    for (auto it = FirstOfName(name); it != series_.end() && it->first.name == name; ++it) {
      f(it->first, it->second);
    }
  }

  // Iteration over every series in key order (name, then labels).
  Map::const_iterator begin() const { return series_.begin(); }
  Map::const_iterator end() const { return series_.end(); }
  const Map& series() const { return series_; }
  size_t size() const { return series_.size(); }
  bool empty() const { return series_.empty(); }

  friend bool operator==(const Snapshot&, const Snapshot&) = default;

 private:
  Map::const_iterator FirstOfName(std::string_view name) const;
  template <class T>
  const T* FindAs(std::string_view name, const Labels& labels) const;

  Map series_;
};

}  // namespace volley::metrics
