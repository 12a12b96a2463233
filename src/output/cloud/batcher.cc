#include "batcher.h"

#include <map>
#include <utility>

#include "volley/metrics/names.h"

namespace volley::output::cloud {
namespace {

namespace names = metrics::names;

struct K6Name {
  const char* volley;
  const char* k6;
};
constexpr K6Name kK6Names[] = {
    {names::kRequests, "http_reqs"},
    {names::kDuration, "http_req_duration"},
    {names::kBlocked, "http_req_blocked"},
    {names::kConnecting, "http_req_connecting"},
    {names::kTlsHandshaking, "http_req_tls_handshaking"},
    {names::kSending, "http_req_sending"},
    {names::kWaiting, "http_req_waiting"},
    {names::kReceiving, "http_req_receiving"},
    {names::kDataSent, "data_sent"},
    {names::kDataReceived, "data_received"},
    {names::kDroppedIterations, "dropped_iterations"},
    {names::kScenarioExecutions, "iterations"},
    {names::kScenarioDuration, "iteration_duration"},
};

// The same samples in milliseconds: bucket indexes do not change when the value and the
// resolution are both scaled by 1000, so this is exact.
metrics::Histogram ToMillis(const metrics::Histogram& h) {
  std::vector<std::pair<uint32_t, uint64_t>> buckets;
  h.ForEachBucket([&](uint32_t index, uint64_t count) { buckets.emplace_back(index, count); });
  metrics::Histogram out(h.min_resolution() * 1000);
  if (!metrics::Histogram::FromParts(h.min_resolution() * 1000, buckets, h.extra_low(),
                                     h.extra_high(), h.min() * 1000, h.max() * 1000, h.sum() * 1000,
                                     &out)) {
    return h;  // cannot happen for a valid histogram; keep the value rather than lose it
  }
  return out;
}

}  // namespace

const char* MapK6Name(const std::string& volley_name) {
  for (const K6Name& n : kK6Names) {
    if (volley_name == n.volley) return n.k6;
  }
  return nullptr;
}

bool HasData(const metrics::MetricValue& value) {
  return std::visit(
      [](const auto& v) -> bool {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, metrics::Counter>) {
          return v.value != 0;
        } else if constexpr (std::is_same_v<T, metrics::Gauge>) {
          return v.count != 0;
        } else if constexpr (std::is_same_v<T, metrics::Rate>) {
          return v.total != 0;
        } else {
          return v.count() != 0;
        }
      },
      value);
}

Batcher::Batcher(const CloudConfig& config)
    : run_id_(config.run_id),
      period_seconds_(static_cast<uint32_t>(config.aggregation_period.count() / 1'000'000'000)),
      max_series_(config.max_series_in_batch),
      names_(config.metric_names),
      ns_(config.metric_namespace) {}

std::string Batcher::WireName(const std::string& name, bool* to_millis) const {
  *to_millis = false;
  if (names_ == MetricNames::kK6) {
    if (const char* k6 = MapK6Name(name)) {
      *to_millis = name.size() > 8 && name.ends_with("_seconds");
      return k6;
    }
  }
  return ns_.empty() ? name : ns_ + "_" + name;
}

metrics::Labels Batcher::WireLabels(const metrics::Labels& labels) {
  metrics::Labels out;
  out.reserve(labels.size());
  bool renamed = false;
  for (const auto& [key, value] : labels) {
    if (key.starts_with("__") || key == "test_run_id") {
      if (warned_keys_.insert(key).second) {
        warnings_.push_back("cloud output: label '" + key +
                            "' is reserved (the name and run id travel in their own "
                            "fields); it is not sent");
      }
      continue;
    }
    if (names_ == MetricNames::kK6 && key == names::kStatusLabel) {
      out.emplace_back("status", value);
      renamed = true;
    } else {
      out.emplace_back(key, value);
    }
  }
  return renamed ? metrics::NormalizeLabels(std::move(out)) : out;
}

std::vector<Batch> Batcher::Cut(const std::vector<Bucket>& buckets) {
  // (wire name, labels) -> series, in order.
  std::map<std::pair<std::string, metrics::Labels>, wire::k6::SeriesSamples> series;
  for (const Bucket& bucket : buckets) {
    for (const auto& [key, value] : bucket.values) {
      if (!HasData(value)) continue;
      bool to_millis = false;
      std::string name = WireName(key.name, &to_millis);
      metrics::Labels labels = WireLabels(key.labels);
      auto [it, fresh] = series.try_emplace({name, labels});
      wire::k6::SeriesSamples& s = it->second;
      if (fresh) {
        s.metric = std::move(name);
        s.type = metrics::TypeOf(value);
        s.labels = std::move(labels);
      } else if (s.type != metrics::TypeOf(value)) {
        ++type_conflicts_;
        continue;
      }
      wire::k6::BucketValue bv;
      bv.time_unix_seconds = bucket.start_unix_seconds;
      const auto* h = std::get_if<metrics::Histogram>(&value);
      bv.value = (to_millis && h != nullptr) ? metrics::MetricValue(ToMillis(*h)) : value;
      s.values.push_back(std::move(bv));
    }
  }
  std::vector<Batch> out;
  for (auto& [key, s] : series) {
    if (out.empty() || out.back().data.series.size() >= max_series_) {
      out.emplace_back();
      out.back().data.test_run_id = run_id_;
      out.back().data.aggregation_period_seconds = period_seconds_;
    }
    out.back().samples += s.values.size();
    out.back().data.series.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> Batcher::TakeWarnings() { return std::exchange(warnings_, {}); }

}  // namespace volley::output::cloud
