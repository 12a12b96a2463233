// Series identity (metric name + sorted labels) and the value types of the four metric
// types (DESIGN.md §4). Plain values: no locking, no I/O; whoever owns one confines it to
// one thread at a time.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace volley::metrics {

// Label (key, value) pairs. Inside a SeriesKey they are sorted by key with unique keys.
using Labels = std::vector<std::pair<std::string, std::string>>;

// Sorts `labels` by key; of duplicate keys the one given last wins.
Labels NormalizeLabels(Labels labels);

// A series: metric name plus label set. The constructor normalizes the labels; code that
// assigns `labels` directly must keep them sorted with unique keys (NormalizeLabels),
// otherwise equal series compare unequal. Ordered by name, then labels, so all series of a
// name are adjacent in an ordered map.
struct SeriesKey {
  std::string name;
  Labels labels;

  SeriesKey() = default;
  SeriesKey(std::string name, Labels labels = {});

  // `name{a="1",b="2"}`, or `name` without labels. Values escape `\`, `"` and newline as
  // in the Prometheus text format.
  std::string ToString() const;

  friend bool operator==(const SeriesKey&, const SeriesKey&) = default;
  friend std::strong_ordering operator<=>(const SeriesKey&, const SeriesKey&) = default;
};

enum class MetricType { kCounter, kGauge, kRate, kTrend };

// "counter", "gauge", "rate", "trend" (k6's names).
const char* MetricTypeName(MetricType type);

// A monotonically growing sum (requests, bytes). Doubles count integers exactly to 2^53.
struct Counter {
  double value = 0;

  void Add(double delta) { value += delta; }
  friend bool operator==(const Counter&, const Counter&) = default;
};

// A value that goes up and down (active connections, VUs). min/max/sum/count describe the
// Set() calls of the period the value covers (count == 0: none, min/max then +inf/-inf);
// `last` is the most recent value ever set (0 before the first Set), so it survives
// periods without calls.
struct Gauge {
  double last = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  double sum = 0;
  uint64_t count = 0;

  void Set(double value) {
    last = value;
    min = value < min ? value : min;
    max = value > max ? value : max;
    sum += value;
    ++count;
  }
  // Average of the Set() calls of the period; `last` when there were none.
  double mean() const { return count == 0 ? last : sum / static_cast<double>(count); }
  // Forgets the period's calls; keeps `last`.
  void ResetPeriod() { *this = Gauge{.last = last}; }
  friend bool operator==(const Gauge&, const Gauge&) = default;
};

// A ratio of non-zero samples (checks passed, requests failed) to all samples.
struct Rate {
  uint64_t nonzero = 0;
  uint64_t total = 0;

  void Add(bool is_nonzero) {
    nonzero += is_nonzero ? 1 : 0;
    ++total;
  }
  // nonzero / total, 0 when there were no samples.
  double ratio() const {
    return total == 0 ? 0 : static_cast<double>(nonzero) / static_cast<double>(total);
  }
  friend bool operator==(const Rate&, const Rate&) = default;
};

}  // namespace volley::metrics
