#include "volley/metrics/snapshot.h"

#include <algorithm>
#include <string>
#include <type_traits>

namespace volley::metrics {

namespace {

// Folds `newer` into `older` when both hold the same alternative; false on a type clash
// or a histogram resolution mismatch (older unchanged).
bool MergeValue(MetricValue& older, const MetricValue& newer) {
  if (older.index() != newer.index()) return false;
  return std::visit(
      [&newer](auto& old) -> bool {
        using T = std::decay_t<decltype(old)>;
        const T& add = std::get<T>(newer);
        if constexpr (std::is_same_v<T, Counter>) {
          old.value += add.value;
        } else if constexpr (std::is_same_v<T, Gauge>) {
          old.last = add.last;
          old.min = std::min(old.min, add.min);
          old.max = std::max(old.max, add.max);
          old.sum += add.sum;
          old.count += add.count;
        } else if constexpr (std::is_same_v<T, Rate>) {
          old.nonzero += add.nonzero;
          old.total += add.total;
        } else {
          return old.Merge(add);
        }
        return true;
      },
      older);
}

}  // namespace

void Snapshot::Put(SeriesKey key, MetricValue value) {
  series_.insert_or_assign(series_.end(), std::move(key), std::move(value));
}

size_t Snapshot::Merge(const Snapshot& newer) {
  size_t conflicts = 0;
  for (const auto& [key, value] : newer.series_) {
    auto it = series_.lower_bound(key);
    if (it != series_.end() && it->first == key) {
      if (!MergeValue(it->second, value)) ++conflicts;
    } else {
      series_.emplace_hint(it, key, value);
    }
  }
  return conflicts;
}

const MetricValue* Snapshot::Find(const SeriesKey& key) const {
  auto it = series_.find(key);
  return it == series_.end() ? nullptr : &it->second;
}

template <class T>
const T* Snapshot::FindAs(std::string_view name, const Labels& labels) const {
  const MetricValue* value = Find(SeriesKey(std::string(name), labels));
  return value == nullptr ? nullptr : std::get_if<T>(value);
}

const Counter* Snapshot::FindCounter(std::string_view name, const Labels& labels) const {
  return FindAs<Counter>(name, labels);
}
const Gauge* Snapshot::FindGauge(std::string_view name, const Labels& labels) const {
  return FindAs<Gauge>(name, labels);
}
const Rate* Snapshot::FindRate(std::string_view name, const Labels& labels) const {
  return FindAs<Rate>(name, labels);
}
const Histogram* Snapshot::FindTrend(std::string_view name, const Labels& labels) const {
  return FindAs<Histogram>(name, labels);
}

Snapshot::Map::const_iterator Snapshot::FirstOfName(std::string_view name) const {
  // The empty label set sorts first among a name's series.
  return series_.lower_bound(SeriesKey(std::string(name)));
}

double Snapshot::SumCounter(std::string_view name) const {
  double total = 0;
  ForEachOfName(name, [&total](const SeriesKey&, const MetricValue& value) {
    if (const auto* c = std::get_if<Counter>(&value)) total += c->value;
  });
  return total;
}

Rate Snapshot::SumRate(std::string_view name) const {
  Rate total;
  ForEachOfName(name, [&total](const SeriesKey&, const MetricValue& value) {
    if (const auto* r = std::get_if<Rate>(&value)) {
      total.nonzero += r->nonzero;
      total.total += r->total;
    }
  });
  return total;
}

Histogram Snapshot::MergedTrend(std::string_view name) const {
  const Histogram* first = nullptr;
  Histogram merged;
  ForEachOfName(name, [&](const SeriesKey&, const MetricValue& value) {
    const auto* h = std::get_if<Histogram>(&value);
    if (h == nullptr) return;
    if (first == nullptr) {
      first = h;
      merged = *h;
    } else {
      merged.Merge(*h);  // a resolution mismatch leaves `merged` unchanged: skipped
    }
  });
  return merged;
}

}  // namespace volley::metrics
