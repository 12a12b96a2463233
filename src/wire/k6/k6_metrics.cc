// MetricSetData <-> metrics.MetricSet (proto/k6/metrics.proto). See k6_metrics.h for what
// travels how and what decoding checks.
#include "volley/wire/k6_metrics.h"

#include <google/protobuf/arena.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <map>
#include <type_traits>

#include "metrics.pb.h"
#include "proto_scan.h"

namespace volley::wire::k6 {
namespace {

namespace pb = ::metrics;
using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;
using metrics::Counter;
using metrics::Gauge;
using metrics::Histogram;
using metrics::MetricType;
using metrics::Rate;

constexpr uint64_t kMaxU32 = std::numeric_limits<uint32_t>::max();
// google.protobuf.Timestamp's valid range: 0001-01-01 to 9999-12-31.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

pb::MetricType ToWire(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return pb::METRIC_TYPE_COUNTER;
    case MetricType::kGauge:
      return pb::METRIC_TYPE_GAUGE;
    case MetricType::kRate:
      return pb::METRIC_TYPE_RATE;
    case MetricType::kTrend:
      return pb::METRIC_TYPE_TREND;
  }
  return pb::METRIC_TYPE_UNSPECIFIED;
}

void SetTime(google::protobuf::Timestamp* t, int64_t seconds) { t->set_seconds(seconds); }

// --- Encoding ---------------------------------------------------------------------------

// Appends `value` to the samples of `ts`; false (nothing appended) when the wire cannot
// carry it.
bool AppendValue(const BucketValue& bv, pb::TimeSeries* ts) {
  return std::visit(
      [&](const auto& v) -> bool {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Counter>) {
          auto* out = ts->mutable_counter_samples()->add_values();
          SetTime(out->mutable_time(), bv.time_unix_seconds);
          out->set_value(v.value);
        } else if constexpr (std::is_same_v<T, Gauge>) {
          if (v.count > kMaxU32) return false;
          auto* out = ts->mutable_gauge_samples()->add_values();
          SetTime(out->mutable_time(), bv.time_unix_seconds);
          out->set_last(v.last);
          out->set_count(static_cast<uint32_t>(v.count));
          out->set_min(v.count == 0 ? v.last : v.min);
          out->set_max(v.count == 0 ? v.last : v.max);
          out->set_avg(v.mean());
        } else if constexpr (std::is_same_v<T, Rate>) {
          if (v.total > kMaxU32) return false;
          auto* out = ts->mutable_rate_samples()->add_values();
          SetTime(out->mutable_time(), bv.time_unix_seconds);
          out->set_nonzero_count(static_cast<uint32_t>(v.nonzero));
          out->set_total_count(static_cast<uint32_t>(v.total));
        } else {
          if (v.count() > kMaxU32) return false;
          auto* out = ts->mutable_trend_hdr_samples()->add_values();
          SetTime(out->mutable_time(), bv.time_unix_seconds);
          BucketSpans spans = EncodeSpans(v);
          out->mutable_counters()->Add(spans.counters.begin(), spans.counters.end());
          for (const auto& [offset, length] : spans.spans) {
            auto* span = out->add_spans();
            span->set_offset(offset);
            span->set_length(length);
          }
          out->set_sum(v.sum());
          out->set_count(static_cast<uint32_t>(v.count()));
          out->set_min_value(v.count() == 0 ? DBL_MAX : v.min());
          out->set_max_value(v.count() == 0 ? -DBL_MAX : v.max());
          if (v.extra_low() > 0)
            out->set_extra_low_values_counter(static_cast<uint32_t>(v.extra_low()));
          if (v.extra_high() > 0) {
            out->set_extra_high_values_counter(static_cast<uint32_t>(v.extra_high()));
          }
          out->set_min_resolution(v.min_resolution());
        }
        return true;
      },
      bv.value);
}

// Sets the (empty) samples oneof of `ts` to the kind of `type`, so a series without values
// still says what it carries.
void InitSamples(MetricType type, pb::TimeSeries* ts) {
  switch (type) {
    case MetricType::kCounter:
      ts->mutable_counter_samples();
      break;
    case MetricType::kGauge:
      ts->mutable_gauge_samples();
      break;
    case MetricType::kRate:
      ts->mutable_rate_samples();
      break;
    case MetricType::kTrend:
      ts->mutable_trend_hdr_samples();
      break;
  }
}

// --- Decoding ---------------------------------------------------------------------------

// Builds error messages that name where in the message a problem is.
struct Where {
  int metric = -1;
  const std::string* name = nullptr;
  int series = -1;
  int value = -1;

  std::string operator()(const std::string& what) const {
    std::string s = "metrics[" + std::to_string(metric) + "]";
    if (name != nullptr) s += " \"" + name->substr(0, 200) + "\"";
    if (series >= 0) s += " time_series[" + std::to_string(series) + "]";
    if (value >= 0) s += " values[" + std::to_string(value) + "]";
    return s + ": " + what;
  }
};

tl::unexpected<Error> Bad(const Where& where, const std::string& what) {
  return MakeError(ErrorCode::kProtocol, where(what));
}

std::string Num(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

Result<int64_t> TimeOf(const Where& where, bool has_time, const google::protobuf::Timestamp& t) {
  if (!has_time) return Bad(where, "time is missing");
  if (t.seconds() < kMinTimestampSeconds || t.seconds() > kMaxTimestampSeconds || t.nanos() < 0 ||
      t.nanos() >= 1'000'000'000) {
    return Bad(where, "time is not a valid Timestamp (seconds " + std::to_string(t.seconds()) +
                          ", nanos " + std::to_string(t.nanos()) + ")");
  }
  return t.seconds();
}

// Per-call decoding state: the limits and what has been spent of them.
struct Decoder {
  const DecodeLimits& limits;
  DecodeReport* report = nullptr;  // per-series mode when set
  size_t values = 0;
  size_t dense_buckets = 0;
  bool over_limit = false;  // a body-wide limit failed: the whole body is refused

  void Repaired(const Where& w, const std::string& what) {
    ++report->repaired_values;
    if (report->repaired.size() < DecodeReport::kMaxNotes) report->repaired.push_back(w(what));
  }

  Result<metrics::MetricValue> Counter(const Where& w, const pb::CounterValue& v) {
    if (!std::isfinite(v.value())) return Bad(w, "counter value is " + Num(v.value()));
    return metrics::Counter{v.value()};
  }

  Result<metrics::MetricValue> Gauge(const Where& w, const pb::GaugeValue& v) {
    for (double d : {v.last(), v.min(), v.max(), v.avg()}) {
      if (std::isnan(d)) return Bad(w, "gauge holds NaN");
    }
    metrics::Gauge g{.last = v.last()};
    if (v.count() == 0) return g;
    g.min = v.min();
    g.max = v.max();
    if (g.min > g.max) {
      if (report == nullptr) {
        return Bad(w, "gauge min " + Num(v.min()) + " is above max " + Num(v.max()));
      }
      std::swap(g.min, g.max);
      Repaired(w, "gauge min " + Num(v.min()) + " was above max " + Num(v.max()) +
                      ": swapped (k6 v0.45+ sends them so)");
    }
    g.count = v.count();
    g.sum = v.avg() * static_cast<double>(v.count());
    return g;
  }

  Result<metrics::MetricValue> Rate(const Where& w, const pb::RateValue& v) {
    if (v.nonzero_count() > v.total_count()) {
      return Bad(w, "rate nonzero_count " + std::to_string(v.nonzero_count()) +
                        " is above total_count " + std::to_string(v.total_count()));
    }
    return metrics::Rate{v.nonzero_count(), v.total_count()};
  }

  Result<metrics::MetricValue> Trend(const Where& w, const pb::TrendHdrValue& v) {
    const double res = v.min_resolution();
    if (!(res > 0) || !std::isfinite(res)) {
      return Bad(w, "trend min_resolution must be finite and > 0, got " + Num(res));
    }
    if (std::isnan(v.sum()) || std::isnan(v.min_value()) || std::isnan(v.max_value())) {
      return Bad(w, "trend sum/min/max holds NaN");
    }
    BucketSpans spans;
    spans.counters.assign(v.counters().begin(), v.counters().end());
    spans.spans.reserve(static_cast<size_t>(v.spans_size()));
    for (const auto& s : v.spans()) spans.spans.emplace_back(s.offset(), s.length());
    auto buckets = DecodeSpans(spans);
    if (!buckets) return Bad(w, "trend " + buckets.error().message);
    uint64_t total = uint64_t{v.extra_low_values_counter()} + v.extra_high_values_counter();
    for (const auto& b : *buckets) total += b.second;  // < 2^32 * 2^14: no overflow
    if (total != v.count()) {
      return Bad(w, "trend count " + std::to_string(v.count()) + " does not match its buckets (" +
                        std::to_string(total) + " samples)");
    }
    if (v.count() > 0 && v.min_value() > v.max_value()) {
      return Bad(
          w, "trend min_value " + Num(v.min_value()) + " is above max_value " + Num(v.max_value()));
    }
    if (!buckets->empty()) {
      dense_buckets += buckets->back().first + size_t{1};
      if (dense_buckets > limits.max_histogram_buckets) {
        over_limit = true;
        return Bad(w, "histograms need more than " + std::to_string(limits.max_histogram_buckets) +
                          " buckets in all (limit max_histogram_buckets)");
      }
    }
    Histogram h(res);
    if (!Histogram::FromParts(res, *buckets, v.extra_low_values_counter(),
                              v.extra_high_values_counter(), v.min_value(), v.max_value(), v.sum(),
                              &h)) {
      return Bad(w, "trend histogram cannot be rebuilt");
    }
    return h;
  }

  // Converts the values of one samples message, each through `convert`.
  template <class Samples, class Convert>
  Result<void> Values(Where w, const Samples& samples, Convert convert, SeriesSamples* out) {
    values += static_cast<size_t>(samples.values_size());
    if (values > limits.max_values) {
      over_limit = true;
      return Bad(w, "more than " + std::to_string(limits.max_values) +
                        " values in the body (limit max_values)");
    }
    out->values.reserve(static_cast<size_t>(samples.values_size()));
    for (int k = 0; k < samples.values_size(); ++k) {
      w.value = k;
      const auto& v = samples.values(k);
      auto time = TimeOf(w, v.has_time(), v.time());
      if (!time) return tl::unexpected(time.error());
      auto value = (this->*convert)(w, v);
      if (!value) return tl::unexpected(value.error());
      out->values.push_back(BucketValue{*time, std::move(*value)});
    }
    return {};
  }

  Result<void> Series(Where w, MetricType type, const pb::TimeSeries& ts, SeriesSamples* out) {
    if (static_cast<size_t>(ts.labels_size()) > limits.max_labels_per_series) {
      return Bad(w, std::to_string(ts.labels_size()) + " labels, more than the limit of " +
                        std::to_string(limits.max_labels_per_series));
    }
    for (const auto& l : ts.labels()) out->labels.emplace_back(l.name(), l.value());
    out->labels = metrics::NormalizeLabels(std::move(out->labels));
    using C = pb::TimeSeries::SamplesCase;
    static constexpr C kExpected[] = {C::kCounterSamples, C::kGaugeSamples, C::kRateSamples,
                                      C::kTrendHdrSamples};
    static constexpr const char* kNames[] = {"none", "", "counter", "gauge", "rate", "trend"};
    if (ts.samples_case() != kExpected[static_cast<int>(type)]) {
      return Bad(w, std::string("carries ") + kNames[ts.samples_case()] +
                        " samples, but the metric is a " + metrics::MetricTypeName(type));
    }
    switch (type) {
      case MetricType::kCounter:
        return Values(w, ts.counter_samples(), &Decoder::Counter, out);
      case MetricType::kGauge:
        return Values(w, ts.gauge_samples(), &Decoder::Gauge, out);
      case MetricType::kRate:
        return Values(w, ts.rate_samples(), &Decoder::Rate, out);
      case MetricType::kTrend:
        return Values(w, ts.trend_hdr_samples(), &Decoder::Trend, out);
    }
    return {};
  }
};

}  // namespace

std::string EncodeMetricSet(const MetricSetData& data) {
  pb::MetricSet set;
  set.set_test_run_id(data.test_run_id);
  set.set_aggregation_period(data.aggregation_period_seconds);
  std::map<std::pair<std::string_view, MetricType>, pb::Metric*> by_name;
  for (const SeriesSamples& series : data.series) {
    pb::Metric*& metric = by_name[{series.metric, series.type}];
    if (metric == nullptr) {
      metric = set.add_metrics();
      metric->set_name(series.metric);
      metric->set_type(ToWire(series.type));
    }
    pb::TimeSeries* ts = metric->add_time_series();
    for (const auto& [name, value] : series.labels) {
      pb::Label* label = ts->add_labels();
      label->set_name(name);
      label->set_value(value);
    }
    InitSamples(series.type, ts);
    for (const BucketValue& value : series.values) {
      if (metrics::TypeOf(value.value) == series.type) AppendValue(value, ts);
    }
  }
  return set.SerializeAsString();
}

Result<MetricSetData> DecodeMetricSet(std::string_view bytes) {
  return DecodeMetricSet(bytes, DecodeLimits{});
}

Result<MetricSetData> DecodeMetricSet(std::string_view bytes, const DecodeLimits& limits) {
  return DecodeMetricSet(bytes, limits, nullptr);
}

Result<MetricSetData> DecodeMetricSet(std::string_view bytes, const DecodeLimits& limits,
                                      DecodeReport* report) {
  auto refuse = [report](const Error& e, size_t series) {
    report->refused_series += series;
    if (report->refused.size() < DecodeReport::kMaxNotes) report->refused.push_back(e.message);
  };
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return MakeError(ErrorCode::kProtocol, "protobuf: the message is over 2 GiB");
  }
  {
    CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                        static_cast<int>(bytes.size()));
    in.PushLimit(static_cast<int>(bytes.size()));
    size_t count = 0;
    if (!wire::CountMessages(pb::MetricSet::descriptor(), &in, limits.max_messages, &count)) {
      if (count > limits.max_messages) {
        return MakeError(ErrorCode::kProtocol, "protobuf: more than " +
                                                   std::to_string(limits.max_messages) +
                                                   " messages in the body (limit max_messages)");
      }
      return MakeError(ErrorCode::kProtocol,
                       "protobuf: the body is not a valid metrics.MetricSet (broken wire format)");
    }
  }
  google::protobuf::Arena arena;
  auto* set = google::protobuf::Arena::CreateMessage<pb::MetricSet>(&arena);
  if (!set->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return MakeError(ErrorCode::kProtocol,
                     "protobuf: the body is not a valid metrics.MetricSet (parse failed)");
  }
  MetricSetData out;
  out.test_run_id = set->test_run_id();
  out.aggregation_period_seconds = set->aggregation_period();
  Decoder decoder{limits, report};
  size_t series = 0;
  for (int i = 0; i < set->metrics_size(); ++i) {
    const pb::Metric& metric = set->metrics(i);
    Where w{.metric = i, .name = &metric.name()};
    series += static_cast<size_t>(metric.time_series_size());
    if (series > limits.max_series) {
      return Bad(w, "more than " + std::to_string(limits.max_series) +
                        " time series in the body (limit max_series)");
    }
    if (metric.type() < pb::METRIC_TYPE_COUNTER || metric.type() > pb::METRIC_TYPE_TREND) {
      auto bad = Bad(w, "type " + std::to_string(metric.type()) +
                            " is not a metric type (1 counter, 2 gauge, 3 rate, 4 trend)");
      if (report == nullptr) return bad;
      refuse(bad.value(), static_cast<size_t>(metric.time_series_size()));
      continue;
    }
    const auto type = static_cast<MetricType>(metric.type() - 1);
    for (int j = 0; j < metric.time_series_size(); ++j) {
      w.series = j;
      SeriesSamples samples{.metric = metric.name(), .type = type};
      if (auto r = decoder.Series(w, type, metric.time_series(j), &samples); !r) {
        if (report == nullptr || decoder.over_limit) return tl::unexpected(r.error());
        refuse(r.error(), 1);
        continue;
      }
      out.series.push_back(std::move(samples));
    }
  }
  return out;
}

}  // namespace volley::wire::k6
