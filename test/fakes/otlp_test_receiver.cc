#include "fakes/otlp_test_receiver.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"

namespace volley::output::testing {
namespace {

namespace pbm = opentelemetry::proto::metrics::v1;
using opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;

std::string Gunzip(const std::string& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return "";
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : "";
}

template <class P>
std::string AttrString(const P& p) {
  std::vector<std::string> kv;
  for (const auto& a : p.attributes()) kv.push_back(a.key() + "=" + a.value().string_value());
  std::sort(kv.begin(), kv.end());
  std::string out;
  for (const auto& s : kv) out += (out.empty() ? "" : ",") + s;
  return out;
}

template <class P>
Point Base(const pbm::Metric& m, const P& p, const char* kind) {
  Point out;
  out.metric = m.name();
  out.kind = kind;
  out.attrs = AttrString(p);
  out.start = p.start_time_unix_nano();
  out.time = p.time_unix_nano();
  return out;
}

}  // namespace

const Point* DecodedRequest::Find(const std::string& metric, const std::string& with) const {
  for (const Point& p : points) {
    if (p.metric != metric) continue;
    bool all = true;
    size_t start = 0;
    while (all && start < with.size()) {
      const size_t comma = std::min(with.find(',', start), with.size());
      const std::string want = with.substr(start, comma - start);
      all = ("," + p.attrs + ",").find("," + want + ",") != std::string::npos;
      start = comma + 1;
    }
    if (all) return &p;
  }
  return nullptr;
}

DecodedRequest DecodeRequest(const std::string& body, bool gzip) {
  DecodedRequest out;
  ExportMetricsServiceRequest req;
  if (!req.ParseFromString(gzip ? Gunzip(body) : body)) return out;
  out.ok = true;
  for (const auto& rm : req.resource_metrics()) {
    for (const auto& a : rm.resource().attributes()) {
      out.resource[a.key()] = a.value().string_value();
    }
    for (const auto& sm : rm.scope_metrics()) {
      out.scope = sm.scope().name();
      for (const auto& m : sm.metrics()) {
        if (m.has_sum()) {
          for (const auto& p : m.sum().data_points()) {
            Point x = Base(m, p, "sum");
            x.value = p.as_double();
            x.monotonic = m.sum().is_monotonic();
            x.temporality = m.sum().aggregation_temporality();
            out.points.push_back(std::move(x));
          }
        } else if (m.has_gauge()) {
          for (const auto& p : m.gauge().data_points()) {
            Point x = Base(m, p, "gauge");
            x.value = p.as_double();
            out.points.push_back(std::move(x));
          }
        } else if (m.has_histogram()) {
          for (const auto& p : m.histogram().data_points()) {
            Point x = Base(m, p, "histogram");
            x.temporality = m.histogram().aggregation_temporality();
            x.count = p.count();
            x.sum = p.sum();
            x.min = p.min();
            x.max = p.max();
            for (uint64_t c : p.bucket_counts()) {
              x.buckets.push_back(c);
              x.bucket_total += c;
            }
            x.bounds.assign(p.explicit_bounds().begin(), p.explicit_bounds().end());
            out.points.push_back(std::move(x));
          }
        }
      }
    }
  }
  return out;
}

TestReceiver::TestReceiver() = default;

TestReceiver::~TestReceiver() { Stop(); }

std::unique_ptr<TestReceiver> TestReceiver::Start(uint16_t port, Script script) {
  std::unique_ptr<TestReceiver> r(new TestReceiver);
  r->script_ = std::move(script);
  TestReceiver* raw = r.get();
  http::Router router;
  auto handle = [raw](const http::Request& req, http::Response& res) {
    int status = 200;
    std::string retry_after, body;
    const bool gz = req.body.size() > 2 && req.body[0] == '\x1f' && req.body[1] == '\x8b';
    raw->Handle(req.body, gz, std::string(req.headers.Get("Content-Type")), &status, &retry_after,
                &body);
    {
      std::lock_guard<std::mutex> lock(raw->mu_);
      raw->content_encoding_ = std::string(req.headers.Get("Content-Encoding"));
      raw->headers_ = req.headers;
    }
    if (status < 0) {  // a hang ended: a retryable answer (the client has usually gone)
      res.status = 503;
      return;
    }
    res.status = status;
    if (!retry_after.empty()) res.headers.Add("Retry-After", retry_after);
    res.content_type = "application/x-protobuf";
    res.body = std::move(body);
  };
  // The same script and recording for remote write (raw bodies: accepted_bodies()).
  for (const char* path : {"/v1/metrics", "/api/v1/write"}) {
    router.Handle("POST", path, handle,
                  http::RouteOptions{.max_body = 64u << 20, .blocking = true});  // hangs: a pool
  }
  http::ServerOptions o;
  o.name = "OTLP test receiver";
  o.blocking_threads = 4;
  o.shutdown_grace = std::chrono::milliseconds(200);
  auto server = http::HttpServer::Start({"127.0.0.1", port}, o, std::move(router));
  if (!server) return nullptr;
  r->server_ = std::move(*server);
  r->port_ = r->server_->port();
  return r;
}

void TestReceiver::Handle(const std::string& body, bool gzip, const std::string& type, int* status,
                          std::string* retry_after, std::string* response) {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t n = requests_++;
  content_type_ = type;
  cv_.notify_all();
  const Answer a = script_ ? script_(n) : Answer{};
  if (a.hang) {
    cv_.wait(lock, [&] { return released_; });
    *status = -1;
    return;
  }
  *status = a.status;
  *retry_after = a.retry_after;
  *response = a.body;
  if (a.status == 200) {
    accepted_.push_back(DecodeRequest(body, gzip));
    accepted_bodies_.push_back(body);
    cv_.notify_all();
  }
}

uint64_t TestReceiver::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::vector<DecodedRequest> TestReceiver::accepted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return accepted_;
}

std::vector<std::string> TestReceiver::accepted_bodies() const {
  std::lock_guard<std::mutex> lock(mu_);
  return accepted_bodies_;
}

std::string TestReceiver::last_content_type() const {
  std::lock_guard<std::mutex> lock(mu_);
  return content_type_;
}

std::string TestReceiver::last_content_encoding() const {
  std::lock_guard<std::mutex> lock(mu_);
  return content_encoding_;
}

std::string TestReceiver::last_header(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::string(headers_.Get(name));
}

bool TestReceiver::WaitForAccepted(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return accepted_.size() >= n; });
}

bool TestReceiver::WaitForRequests(uint64_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return requests_ >= n; });
}

void TestReceiver::SetScript(Script script) {
  std::lock_guard<std::mutex> lock(mu_);
  script_ = std::move(script);
}

void TestReceiver::ReleaseHangs() {
  std::lock_guard<std::mutex> lock(mu_);
  released_ = true;
  cv_.notify_all();
}

void TestReceiver::Stop() {
  ReleaseHangs();
  if (server_) server_->Stop();
}

uint16_t FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace volley::output::testing
