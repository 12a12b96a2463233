#include "volley/metrics/shard.h"

#include <type_traits>
#include <utility>
#include <variant>

namespace volley::metrics {

Shard::Shard(size_t max_series) : max_series_(max_series) {}

MetricValue* Shard::Register(const SeriesKey& key, const MetricValue& initial) {
  auto it = series_.find(key);
  if (it == series_.end()) {
    if (series_.size() < max_series_) {
      it = series_.emplace(key, Entry{initial}).first;
    } else {
      ++folded_;
      SeriesKey overflow(key.name, {{kOverflowLabelKey, kOverflowLabelValue}});
      it = series_.find(overflow);
      if (it == series_.end()) it = series_.emplace(std::move(overflow), Entry{initial}).first;
    }
  }
  MetricValue& value = it->second.value;
  if (value.index() != initial.index()) return nullptr;
  if (const auto* h = std::get_if<Histogram>(&value)) {
    if (h->min_resolution() != std::get<Histogram>(initial).min_resolution()) return nullptr;
  }
  return &value;
}

Counter* Shard::GetCounter(const SeriesKey& key) {
  MetricValue* v = Register(key, Counter{});
  return v == nullptr ? nullptr : std::get_if<Counter>(v);
}

Gauge* Shard::GetGauge(const SeriesKey& key) {
  MetricValue* v = Register(key, Gauge{});
  return v == nullptr ? nullptr : std::get_if<Gauge>(v);
}

Rate* Shard::GetRate(const SeriesKey& key) {
  MetricValue* v = Register(key, Rate{});
  return v == nullptr ? nullptr : std::get_if<Rate>(v);
}

Histogram* Shard::GetTrend(const SeriesKey& key, double min_resolution) {
  MetricValue* v = Register(key, Histogram(min_resolution));
  return v == nullptr ? nullptr : std::get_if<Histogram>(v);
}

Snapshot Shard::TakeDelta() {
  Snapshot delta;
  for (auto& item : series_) {
    // Not a structured binding: clang 14 cannot capture those in the lambda below.
    const SeriesKey& key = item.first;
    auto& entry = item.second;
    const bool fresh = std::exchange(entry.fresh, false);
    std::visit(
        [&](auto& value) {
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, Counter>) {
            if (fresh || value.value != 0) delta.Put(key, value);
            value = Counter{};
          } else if constexpr (std::is_same_v<T, Gauge>) {
            delta.Put(key, value);
            value.ResetPeriod();
          } else if constexpr (std::is_same_v<T, Rate>) {
            if (fresh || value.total != 0) delta.Put(key, value);
            value = Rate{};
          } else {
            if (fresh || value.count() != 0) delta.Put(key, value);
            value.Reset();  // in place: keeps the grown buckets, so no reallocation
          }
        },
        entry.value);
  }
  return delta;
}

}  // namespace volley::metrics
