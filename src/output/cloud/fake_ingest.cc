#include "fake_ingest.h"

#include <httplib.h>

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

FakeIngest::FakeIngest(IngestScript script)
    : script_(std::move(script)), server_(std::make_unique<httplib::Server>()) {}

FakeIngest::~FakeIngest() { Stop(); }

bool FakeIngest::Start(uint16_t port) {
  httplib::Server& svr = *server_;
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    std::map<std::string, std::string> headers;
    for (const char* h : kHeaders) {
      if (req.has_header(h)) headers[h] = req.get_header_value(h);
    }
    const IngestAnswer a = Handle(req.path, headers, req.body);
    res.status = a.status;
    if (!a.retry_after.empty()) res.set_header("Retry-After", a.retry_after);
    res.set_content(a.body, "application/json");
  };
  svr.Post(R"(/v[12]/metrics/[^/]+)", handler);
  svr.set_payload_max_length(64 << 20);
  svr.set_keep_alive_timeout(1);  // Stop() waits for idle keep-alive connections
  if (port == 0) {
    const int p = svr.bind_to_any_port("127.0.0.1");
    if (p <= 0) return false;
    port_ = static_cast<uint16_t>(p);
  } else {
    if (!svr.bind_to_port("127.0.0.1", port)) return false;
    port_ = port;
  }
  auto loop_done = std::make_shared<std::atomic<bool>>(false);
  thread_ = std::thread([&svr, loop_done] {
    svr.listen_after_bind();
    loop_done->store(true);
  });
  // httplib's stop() does nothing before the accept loop marks itself running.
  while (!svr.is_running() && !loop_done->load()) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return !loop_done->load();
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
  server_->stop();
  if (thread_.joinable()) thread_.join();
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
