// Request bodies -> validated, normalized MetricSetData (request.h).
#include "volley/ingest/request.h"

#include <cmath>
#include <map>
#include <string>
#include <tuple>

namespace volley::ingest {
namespace {

using metrics::Histogram;
using metrics::MetricType;
using metrics::MetricValue;
using wire::k6::BucketValue;
using wire::k6::MetricSetData;
using wire::k6::SeriesSamples;

constexpr double kTwoTo64 = 18446744073709551616.0;

bool DroppedLabel(const std::string& key) {
  return key.rfind("__", 0) == 0 || key == "test_run_id";
}

// k6's built-in metrics and their types (k6 docs, "Built-in metrics").
MetricType BuiltinType(const std::string& name, MetricType otherwise) {
  static const std::map<std::string, MetricType, std::less<>> kBuiltins = {
      {"vus", MetricType::kGauge},
      {"vus_max", MetricType::kGauge},
      {"iterations", MetricType::kCounter},
      {"dropped_iterations", MetricType::kCounter},
      {"data_sent", MetricType::kCounter},
      {"data_received", MetricType::kCounter},
      {"http_reqs", MetricType::kCounter},
      {"checks", MetricType::kRate},
      {"http_req_failed", MetricType::kRate},
      {"iteration_duration", MetricType::kTrend},
      {"group_duration", MetricType::kTrend},
      {"http_req_duration", MetricType::kTrend},
      {"http_req_blocked", MetricType::kTrend},
      {"http_req_connecting", MetricType::kTrend},
      {"http_req_tls_handshaking", MetricType::kTrend},
      {"http_req_sending", MetricType::kTrend},
      {"http_req_waiting", MetricType::kTrend},
      {"http_req_receiving", MetricType::kTrend},
  };
  auto it = kBuiltins.find(name);
  return it == kBuiltins.end() ? otherwise : it->second;
}

double ResolutionFor(const std::string& metric) {
  const std::string_view suffix = "_seconds";
  const bool seconds = metric.size() >= suffix.size() &&
                       metric.compare(metric.size() - suffix.size(), suffix.size(), suffix) == 0;
  return seconds ? 1e-6 : 0.001;
}

int64_t SecondOf(int64_t time_us) {
  return time_us >= 0 ? time_us / 1'000'000 : -((-(time_us + 1)) / 1'000'000) - 1;
}

// Collects v1 samples into per-(metric, labels, second) values, bounding histogram memory.
class V1Collector {
 public:
  explicit V1Collector(const BodyLimits& limits) : limits_(limits) {}

  Result<void> One(const std::string& metric, MetricType type, const metrics::Labels& tags,
                   int64_t time_us, double value) {
    MetricValue* v = Slot(metric, type, tags, time_us);
    if (v == nullptr) return TypeClash(metric);
    if (auto* c = std::get_if<metrics::Counter>(v)) {
      c->Add(value);
    } else if (auto* g = std::get_if<metrics::Gauge>(v)) {
      g->Set(value);
    } else if (auto* r = std::get_if<metrics::Rate>(v)) {
      r->Add(value != 0);
    } else {
      auto& h = std::get<Histogram>(*v);
      const size_t before = h.storage_buckets();
      h.Record(value);
      return Spend(h.storage_buckets() - before);
    }
    return {};
  }

  Result<void> Aggregated(const std::string& metric, MetricType type, const metrics::Labels& tags,
                          int64_t time_us, uint64_t count, const wire::k6::V1Aggregate& a) {
    if (count == 0) return {};
    MetricValue* v = Slot(metric, type, tags, time_us);
    if (v == nullptr) return TypeClash(metric);
    if (type == MetricType::kRate) {
      const double nz = std::round(a.avg * static_cast<double>(count));
      metrics::Rate add{std::min(count, static_cast<uint64_t>(nz)), count};
      MergeValue(*v, add);
      return {};
    }
    auto& h = std::get<Histogram>(*v);
    const double res = h.min_resolution();
    const double sum = a.avg * static_cast<double>(count);
    std::vector<std::pair<uint32_t, uint64_t>> buckets;
    uint64_t low = 0, high = 0;
    auto put = [&](double x, uint64_t n) {
      const double scaled = x / res;
      if (scaled < 0) {
        low += n;
      } else if (!(std::ceil(scaled) < kTwoTo64)) {
        high += n;
      } else {
        buckets.emplace_back(Histogram::BucketIndex(static_cast<uint64_t>(std::ceil(scaled))), n);
      }
    };
    if (count == 1) {
      put(a.min, 1);
    } else {
      put(a.min, 1);
      put(a.max, 1);
      if (count > 2) {
        const double rest = (sum - a.min - a.max) / static_cast<double>(count - 2);
        put(std::clamp(rest, a.min, a.max), count - 2);
      }
    }
    Histogram add(res);
    if (!Histogram::FromParts(res, buckets, low, high, a.min, a.max, sum, &add)) {
      return MakeError(ErrorCode::kProtocol, "v1: aggregated " + metric + ": count is too large");
    }
    const size_t before = h.storage_buckets();
    if (!h.Merge(add)) return TypeClash(metric);
    return Spend(h.storage_buckets() - before);
  }

  MetricSetData Take() {
    MetricSetData out;
    for (auto& [key, value] : values_) {
      const auto& [metric, labels, second] = key;
      if (out.series.empty() || out.series.back().metric != metric ||
          out.series.back().labels != labels) {
        out.series.push_back(SeriesSamples{metric, metrics::TypeOf(value), labels, {}});
      }
      out.series.back().values.push_back(BucketValue{second, std::move(value)});
    }
    return out;
  }

 private:
  MetricValue* Slot(const std::string& metric, MetricType type, const metrics::Labels& tags,
                    int64_t time_us) {
    auto [it, inserted] = values_.try_emplace({metric, tags, SecondOf(time_us)});
    if (inserted) {
      switch (type) {
        case MetricType::kCounter:
          it->second = metrics::Counter{};
          break;
        case MetricType::kGauge:
          it->second = metrics::Gauge{};
          break;
        case MetricType::kRate:
          it->second = metrics::Rate{};
          break;
        case MetricType::kTrend:
          it->second = Histogram(ResolutionFor(metric));
          break;
      }
    }
    return metrics::TypeOf(it->second) == type ? &it->second : nullptr;
  }

  Result<void> Spend(size_t buckets) {
    buckets_ += buckets;
    if (buckets_ > limits_.v2.max_histogram_buckets) {
      return MakeError(ErrorCode::kProtocol, "v1: the trends of this body need more than " +
                                                 std::to_string(limits_.v2.max_histogram_buckets) +
                                                 " histogram buckets");
    }
    return {};
  }

  tl::unexpected<Error> TypeClash(const std::string& metric) const {
    return MakeError(ErrorCode::kProtocol,
                     "v1: metric \"" + metric + "\" is sent with two different types");
  }

  const BodyLimits& limits_;
  std::map<std::tuple<std::string, metrics::Labels, int64_t>, MetricValue> values_;
  size_t buckets_ = 0;
};

}  // namespace

bool MergeValue(MetricValue& into, const MetricValue& add) {
  if (into.index() != add.index()) return false;
  if (auto* c = std::get_if<metrics::Counter>(&into)) {
    c->Add(std::get<metrics::Counter>(add).value);
  } else if (auto* r = std::get_if<metrics::Rate>(&into)) {
    r->nonzero += std::get<metrics::Rate>(add).nonzero;
    r->total += std::get<metrics::Rate>(add).total;
  } else if (auto* g = std::get_if<metrics::Gauge>(&into)) {
    const auto& n = std::get<metrics::Gauge>(add);
    *g = metrics::Gauge{n.last, std::min(g->min, n.min), std::max(g->max, n.max), g->sum + n.sum,
                        g->count + n.count};
  } else {
    return std::get<Histogram>(into).Merge(std::get<Histogram>(add));
  }
  return true;
}

Result<MetricSetData> Normalize(MetricSetData data) {
  using Key = std::pair<std::string, metrics::Labels>;
  std::map<Key, std::map<int64_t, MetricValue>> series;
  std::map<std::string, MetricType, std::less<>> types;
  for (SeriesSamples& s : data.series) {
    std::string metric = std::move(s.metric);
    metrics::Labels labels;
    for (auto& [k, v] : s.labels) {
      if (k == "__name__" && metric.empty()) metric = v;
      if (!DroppedLabel(k)) labels.emplace_back(std::move(k), std::move(v));
    }
    if (metric.empty()) {
      return MakeError(ErrorCode::kProtocol, "a time series has no metric name");
    }
    auto [type, fresh] = types.try_emplace(metric, s.type);
    if (!fresh && type->second != s.type) {
      return MakeError(ErrorCode::kProtocol, "metric \"" + metric + "\" is sent as both " +
                                                 metrics::MetricTypeName(type->second) + " and " +
                                                 metrics::MetricTypeName(s.type));
    }
    auto entry = series.try_emplace(Key{std::move(metric), std::move(labels)}).first;
    for (BucketValue& v : s.values) {
      auto [slot, inserted] = entry->second.try_emplace(v.time_unix_seconds, std::move(v.value));
      if (!inserted && !MergeValue(slot->second, v.value)) {
        return MakeError(ErrorCode::kProtocol, "trend \"" + entry->first.first +
                                                   "\" is sent with two histogram resolutions");
      }
    }
  }
  MetricSetData out{std::move(data.test_run_id), data.aggregation_period_seconds, {}};
  for (auto& [key, values] : series) {
    SeriesSamples s{key.first, types.find(key.first)->second, key.second, {}};
    for (auto& [time, value] : values) s.values.push_back(BucketValue{time, std::move(value)});
    // One resolution per trend series: the store merges its values into one histogram.
    for (const auto& v : s.values) {
      const auto* h = std::get_if<Histogram>(&v.value);
      const auto* first = std::get_if<Histogram>(&s.values.front().value);
      if (h != nullptr && h->min_resolution() != first->min_resolution()) {
        return MakeError(ErrorCode::kProtocol,
                         "trend \"" + s.metric + "\" is sent with two histogram resolutions");
      }
    }
    out.series.push_back(std::move(s));
  }
  return out;
}

Result<MetricSetData> DecodeV2Body(std::string_view body, const BodyLimits& limits,
                                   wire::k6::DecodeReport* report) {
  auto raw = wire::k6::SnappyUncompress(body, limits.max_decompressed);
  if (!raw) return tl::unexpected(raw.error());
  auto data = wire::k6::DecodeMetricSet(*raw, limits.v2, report);
  if (!data) return tl::unexpected(data.error());
  return Normalize(std::move(*data));
}

Result<MetricSetData> DecodeV1Body(std::string_view body, const BodyLimits& limits) {
  auto samples = wire::k6::DecodeV1(body, limits.v1);
  if (!samples) return tl::unexpected(samples.error());
  V1Collector collect(limits);
  for (const wire::k6::V1Sample& sample : *samples) {
    Result<void> r;
    if (const auto* p = std::get_if<wire::k6::V1Point>(&sample)) {
      r = collect.One(p->metric, p->type, p->tags, p->time_us, p->value);
    } else if (const auto* ps = std::get_if<wire::k6::V1Points>(&sample)) {
      for (const auto& [name, value] : ps->values) {
        r = collect.One(name, BuiltinType(name, ps->type), ps->tags, ps->time_us, value);
        if (!r) break;
      }
    } else {
      const auto& a = std::get<wire::k6::V1AggregatedPoints>(sample);
      for (const auto& [name, agg] : a.values) {
        r = collect.Aggregated(name, a.type, a.tags, a.time_us, a.count, agg);
        if (!r) break;
      }
    }
    if (!r) return tl::unexpected(r.error());
  }
  return Normalize(collect.Take());
}

}  // namespace volley::ingest
