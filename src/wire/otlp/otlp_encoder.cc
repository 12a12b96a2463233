// Snapshot -> ExportMetricsServiceRequest (see volley/wire/otlp_metrics.h for the mapping).
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <variant>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "volley/wire/otlp_metrics.h"

namespace volley::wire {
namespace {

namespace pb_common = opentelemetry::proto::common::v1;
namespace pb_metrics = opentelemetry::proto::metrics::v1;
using opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;

void AddAttribute(google::protobuf::RepeatedPtrField<pb_common::KeyValue>* list,
                  const std::string& key, const std::string& value) {
  pb_common::KeyValue* kv = list->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

// A series' own labels, then the constant ones whose key it does not have. Both inputs are
// sorted by key (SeriesKey and NormalizeLabels keep them so), so this is a merge.
void AddPointAttributes(const metrics::Labels& own, const metrics::Labels& constant,
                        google::protobuf::RepeatedPtrField<pb_common::KeyValue>* out) {
  auto o = own.begin();
  auto c = constant.begin();
  while (o != own.end() || c != constant.end()) {
    if (c == constant.end() || (o != own.end() && o->first <= c->first)) {
      if (c != constant.end() && o->first == c->first) ++c;  // the series' own label wins
      AddAttribute(out, o->first, o->second);
      ++o;
    } else {
      AddAttribute(out, c->first, c->second);
      ++c;
    }
  }
}

std::string UnitOf(std::string_view name) {
  if (name.ends_with("_seconds")) return "s";
  if (name.ends_with("_bytes") || name.ends_with("_bytes_total")) return "By";
  return "";
}

// The Metric of one exported name, created on first use in name order.
class MetricTable {
 public:
  explicit MetricTable(pb_metrics::ScopeMetrics* scope) : scope_(scope) {}

  // The Metric for `name` if it is new or of `type`; nullptr when `name` already holds
  // another data kind (the series is then left out).
  pb_metrics::Metric* Get(const std::string& name, metrics::MetricType type) {
    auto [it, inserted] = by_name_.try_emplace(name, Entry{nullptr, type});
    if (!inserted) return it->second.type == type ? it->second.metric : nullptr;
    pb_metrics::Metric* m = scope_->add_metrics();
    m->set_name(name);
    m->set_unit(UnitOf(name));
    switch (type) {
      case metrics::MetricType::kCounter:
      case metrics::MetricType::kRate:
        m->mutable_sum()->set_aggregation_temporality(
            pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
        m->mutable_sum()->set_is_monotonic(true);
        break;
      case metrics::MetricType::kGauge:
        m->mutable_gauge();
        break;
      case metrics::MetricType::kTrend:
        m->mutable_histogram()->set_aggregation_temporality(
            pb_metrics::AGGREGATION_TEMPORALITY_CUMULATIVE);
        break;
    }
    it->second.metric = m;
    return m;
  }

 private:
  struct Entry {
    pb_metrics::Metric* metric;
    metrics::MetricType type;
  };
  pb_metrics::ScopeMetrics* scope_;
  std::map<std::string, Entry> by_name_;
};

pb_metrics::NumberDataPoint* AddNumberPoint(pb_metrics::Metric* m, const metrics::Labels& own,
                                            const OtlpEncodeOptions& o, bool cumulative) {
  pb_metrics::NumberDataPoint* p =
      m->has_sum() ? m->mutable_sum()->add_data_points() : m->mutable_gauge()->add_data_points();
  AddPointAttributes(own, o.point_attributes, p->mutable_attributes());
  if (cumulative) p->set_start_time_unix_nano(o.start_unix_nanos);
  p->set_time_unix_nano(o.time_unix_nanos);
  return p;
}

void AddHistogramPoint(pb_metrics::Metric* m, const metrics::Labels& own,
                       const metrics::Histogram& h, const std::vector<double>& bounds,
                       const OtlpEncodeOptions& o) {
  pb_metrics::HistogramDataPoint* p = m->mutable_histogram()->add_data_points();
  AddPointAttributes(own, o.point_attributes, p->mutable_attributes());
  p->set_start_time_unix_nano(o.start_unix_nanos);
  p->set_time_unix_nano(o.time_unix_nanos);
  p->set_count(h.count());
  if (h.count() > 0) {
    p->set_min(h.min());
    p->set_max(h.max());
    // The spec: leave sum unset when negative values were recorded.
    if (h.extra_low() == 0 && h.min() >= 0) p->set_sum(h.sum());
  } else {
    p->set_sum(0);
  }
  for (double b : bounds) p->add_explicit_bounds(b);
  for (uint64_t c : OtlpBucketCounts(h, bounds)) p->add_bucket_counts(c);
}

}  // namespace

std::string OtlpMetricName(std::string_view ns, std::string_view name) {
  if (ns.empty()) return std::string(name);
  std::string out;
  out.reserve(ns.size() + 1 + name.size());
  out.append(ns).append("_").append(name);
  return out;
}

std::vector<double> NormalizeBounds(std::vector<double> bounds) {
  std::erase_if(bounds, [](double b) { return !std::isfinite(b); });
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  return bounds;
}

std::vector<uint64_t> OtlpBucketCounts(const metrics::Histogram& h,
                                       const std::vector<double>& bounds) {
  std::vector<uint64_t> counts;
  if (bounds.empty()) return counts;
  counts.reserve(bounds.size() + 1);
  uint64_t below = 0;  // C(b_{i-1}); C(-inf) = 0
  for (double b : bounds) {
    // CountAtOrBelow is non-decreasing in b and at most count(); max() and min() keep that
    // true even for unexpected input.
    const uint64_t at_or_below = std::min(h.count(), std::max(below, h.CountAtOrBelow(b)));
    counts.push_back(at_or_below - below);
    below = at_or_below;
  }
  counts.push_back(h.count() - below);
  return counts;
}

std::string EncodeOtlpMetrics(const metrics::Snapshot& snapshot, const OtlpEncodeOptions& options) {
  ExportMetricsServiceRequest request;
  pb_metrics::ResourceMetrics* rm = request.add_resource_metrics();
  {
    std::map<std::string, bool> seen;
    for (const auto& [key, value] : options.resource_attributes) {
      if (seen.emplace(key, true).second) {
        AddAttribute(rm->mutable_resource()->mutable_attributes(), key, value);
      }
    }
  }
  pb_metrics::ScopeMetrics* scope = rm->add_scope_metrics();
  scope->mutable_scope()->set_name(options.scope_name);
  if (!options.scope_version.empty()) scope->mutable_scope()->set_version(options.scope_version);

  const std::vector<double> bounds = NormalizeBounds(options.histogram_bounds);
  const metrics::Labels constant = metrics::NormalizeLabels(options.point_attributes);
  OtlpEncodeOptions o = options;  // with the normalized constant labels
  o.point_attributes = constant;
  MetricTable table(scope);

  for (const auto& [key, value] : snapshot) {
    const std::string name = OtlpMetricName(options.ns, key.name);
    const metrics::MetricType type = metrics::TypeOf(value);
    if (const auto* c = std::get_if<metrics::Counter>(&value)) {
      if (auto* m = table.Get(name, type))
        AddNumberPoint(m, key.labels, o, true)->set_as_double(c->value);
    } else if (const auto* g = std::get_if<metrics::Gauge>(&value)) {
      if (auto* m = table.Get(name, type))
        AddNumberPoint(m, key.labels, o, false)->set_as_double(g->last);
    } else if (const auto* r = std::get_if<metrics::Rate>(&value)) {
      std::string_view base = name;
      if (base.ends_with("_total")) base.remove_suffix(6);
      const std::string total = std::string(base) + "_total";
      const std::string nonzero = std::string(base) + "_nonzero_total";
      if (auto* m = table.Get(total, type)) {
        AddNumberPoint(m, key.labels, o, true)->set_as_double(static_cast<double>(r->total));
      }
      if (auto* m = table.Get(nonzero, type)) {
        AddNumberPoint(m, key.labels, o, true)->set_as_double(static_cast<double>(r->nonzero));
      }
    } else if (const auto* h = std::get_if<metrics::Histogram>(&value)) {
      if (auto* m = table.Get(name, type)) AddHistogramPoint(m, key.labels, *h, bounds, o);
    }
  }
  std::string out;
  request.SerializeToString(&out);
  return out;
}

}  // namespace volley::wire
