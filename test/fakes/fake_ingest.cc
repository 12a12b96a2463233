#include "fakes/fake_ingest.h"

#include <atomic>
#include <cmath>

#include "volley/wire/k6_metrics.h"
#include "volley/wire/k6_v1.h"

namespace volley::output::testing {
namespace {

namespace k6 = wire::k6;

constexpr const char* kHeaders[] = {
    "Content-Type",  "Content-Encoding",   "K6-Metrics-Protocol-Version",
    "Authorization", "K6-Idempotency-Key", "User-Agent"};

// One v1 sample value of `type` as volley's value of one sample.
metrics::MetricValue V1Value(metrics::MetricType type, double v) {
  switch (type) {
    case metrics::MetricType::kCounter:
      return metrics::Counter{v};
    case metrics::MetricType::kGauge: {
      metrics::Gauge g;
      g.Set(v);
      return g;
    }
    case metrics::MetricType::kRate:
      return metrics::Rate{v != 0 ? 1u : 0u, 1};
    case metrics::MetricType::kTrend: {
      metrics::Histogram h;
      h.Record(v);
      return h;
    }
  }
  return metrics::Counter{};
}

}  // namespace

FakeIngest::FakeIngest(IngestScript script) : script_(std::move(script)) {}

FakeIngest::~FakeIngest() { Stop(); }

bool FakeIngest::Start(uint16_t port) {
  auto handler = [this](const http::Request& req, http::Response& res) {
    std::map<std::string, std::string> headers;
    for (const char* h : kHeaders) {
      if (req.headers.Has(h)) headers[h] = std::string(req.headers.Get(h));
    }
    const IngestAnswer a = Handle(req.path, headers, req.body);
    res.status = a.status;
    if (!a.retry_after.empty()) res.headers.Add("Retry-After", a.retry_after);
    res.content_type = "application/json";
    res.body = a.body;
  };
  // Slow answers wait on the blocking pool, so other requests are still answered.
  const http::RouteOptions options{.max_body = 64u << 20, .blocking = true};
  http::Router router;
  router.Handle("POST", "/v1/metrics/{}", handler, options);
  router.Handle("POST", "/v2/metrics/{}", handler, options);
  http::ServerOptions o;
  o.name = "fake ingest";
  o.blocking_threads = 4;
  o.shutdown_grace = std::chrono::milliseconds(200);
  auto server = http::HttpServer::Start({"127.0.0.1", port}, o, std::move(router));
  if (!server) return false;
  server_ = std::move(*server);
  port_ = server_->port();
  return true;
}

void FakeIngest::Release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
  }
  cv_.notify_all();
}

void FakeIngest::Stop() {
  Release();
  if (server_) server_->Stop();
}

IngestAnswer FakeIngest::Handle(const std::string& path,
                                const std::map<std::string, std::string>& headers,
                                const std::string& body) {
  std::unique_lock<std::mutex> lock(mu_);
  IngestRequest r;
  r.path = path;
  r.headers = headers;
  r.arrival = MonotonicNow();
  const int n = static_cast<int>(requests_.size()) + 1;
  const IngestAnswer a = script_ ? script_(n) : IngestAnswer{};
  const bool accept = a.store || (a.status >= 200 && a.status < 300);
  auto key = headers.find("K6-Idempotency-Key");
  const std::string id = key == headers.end() ? "" : key->second;
  if (accept && !id.empty() && stored_keys_.count(id) != 0) {
    ++duplicates_;  // a retry of a stored request: a no-op
    r.decoded = true;
  } else if (accept) {
    r.decoded = StoreLocked(path, body, &r);
    if (r.decoded && !id.empty()) stored_keys_.insert(id);
  }
  requests_.push_back(std::move(r));
  ++events_;
  cv_.notify_all();
  if (a.delay > Nanos(0)) cv_.wait_for(lock, a.delay, [&] { return released_; });
  return a;
}

bool FakeIngest::StoreLocked(const std::string& path, const std::string& body, IngestRequest* r) {
  std::string* error = &r->error;
  if (path.starts_with("/v2/")) {
    auto raw = k6::SnappyUncompress(body, 64 << 20);
    if (!raw) {
      *error = raw.error().message;
      return false;
    }
    auto set = k6::DecodeMetricSet(*raw);
    if (!set) {
      *error = set.error().message;
      return false;
    }
    r->series = set->series.size();
    for (const k6::SeriesSamples& s : set->series) {
      const metrics::SeriesKey key(s.metric, s.labels);
      for (const k6::BucketValue& v : s.values) {
        metrics::Snapshot one;
        one.Put(key, v.value);
        totals_.Merge(one);
        times_.insert({key, v.time_unix_seconds});
        ++values_stored_;
      }
    }
    return true;
  }
  auto samples = k6::DecodeV1(body);
  if (!samples) {
    *error = samples.error().message;
    return false;
  }
  r->series = samples->size();
  for (const k6::V1Sample& sample : *samples) {
    metrics::Snapshot one;
    if (const auto* p = std::get_if<k6::V1Point>(&sample)) {
      one.Put(metrics::SeriesKey(p->metric, p->tags), V1Value(p->type, p->value));
      times_.insert({metrics::SeriesKey(p->metric, p->tags), p->time_us / 1'000'000});
    } else if (const auto* ps = std::get_if<k6::V1Points>(&sample)) {
      for (const auto& [name, v] : ps->values) {
        one.Put(metrics::SeriesKey(name, ps->tags), V1Value(ps->type, v));
      }
    } else if (const auto* a = std::get_if<k6::V1AggregatedPoints>(&sample)) {
      for (const auto& [name, agg] : a->values) {
        const metrics::SeriesKey key(name, a->tags);
        times_.insert({key, a->time_us / 1'000'000});
        if (a->type == metrics::MetricType::kRate) {
          const auto nonzero = static_cast<uint64_t>(std::llround(agg.avg * a->count));
          one.Put(key, metrics::Rate{nonzero, a->count});
        } else {
          v1_trend_counts_[key] += a->count;
        }
      }
    }
    totals_.Merge(one);
    ++values_stored_;
  }
  return true;
}

metrics::Snapshot FakeIngest::Totals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return totals_;
}

std::map<metrics::SeriesKey, uint64_t> FakeIngest::V1TrendCounts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return v1_trend_counts_;
}

size_t FakeIngest::distinct_values() const {
  std::lock_guard<std::mutex> lock(mu_);
  return times_.size();
}

std::set<int64_t> FakeIngest::times() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<int64_t> out;
  for (const auto& [key, t] : times_) out.insert(t);
  return out;
}

uint64_t FakeIngest::values_stored() const {
  std::lock_guard<std::mutex> lock(mu_);
  return values_stored_;
}

std::vector<IngestRequest> FakeIngest::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t FakeIngest::stored_requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stored_keys_.size();
}

size_t FakeIngest::duplicate_requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return duplicates_;
}

bool FakeIngest::WaitFor(const std::function<bool(const FakeIngest&)>& pred, Nanos timeout) const {
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    const uint64_t seen = events_;
    lock.unlock();
    if (pred(*this)) return true;
    lock.lock();
    if (!cv_.wait_until(lock, until, [&] { return events_ != seen; })) {
      lock.unlock();
      return pred(*this);
    }
  }
}

}  // namespace volley::output::testing
