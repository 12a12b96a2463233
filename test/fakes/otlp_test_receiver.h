// Test support: a loopback OTLP/HTTP receiver (http::HttpServer on 127.0.0.1) that
// decodes every request with the generated protobuf code and answers from a script
// (200, any status with Retry-After, or a hang until released), plus the decoder itself
// for tests that capture bodies without HTTP. Test-only code; not part of volley.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/http_server.h"

namespace volley::output::testing {

// One data point of a decoded request, flattened.
struct Point {
  std::string metric;  // Metric.name
  std::string kind;    // "sum", "gauge", "histogram"
  std::string attrs;   // sorted "k=v,k=v"
  uint64_t start = 0;
  uint64_t time = 0;
  double value = 0;  // sum / gauge
  bool monotonic = false;
  int temporality = 0;
  uint64_t count = 0;  // histogram
  double sum = 0;
  double min = 0;
  double max = 0;
  uint64_t bucket_total = 0;
  std::vector<uint64_t> buckets;
  std::vector<double> bounds;
};

struct DecodedRequest {
  bool ok = false;  // parsed
  std::map<std::string, std::string> resource;
  std::string scope;
  std::vector<Point> points;
  // The point of `metric` whose attrs contain every "k=v" of `with` (nullptr if none).
  const Point* Find(const std::string& metric, const std::string& with = "") const;
};

// Decodes an ExportMetricsServiceRequest (gunzipped first when `gzip`).
DecodedRequest DecodeRequest(const std::string& body, bool gzip);

// How the receiver answers request number n (0-based).
struct Answer {
  int status = 200;
  std::string retry_after;
  std::string body;   // "" for 200 means an empty (full-success) response
  bool hang = false;  // block until ReleaseHangs() or Stop(), then answer 503
};

// Thread-safe. Starts listening in Start; Stop (or the destructor) releases hangs and
// joins the server threads.
class TestReceiver {
 public:
  using Script = std::function<Answer(uint64_t n)>;

  // Listens on 127.0.0.1:`port` (0: an ephemeral one). nullptr if it cannot bind.
  static std::unique_ptr<TestReceiver> Start(uint16_t port = 0, Script script = nullptr);
  ~TestReceiver();

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1/metrics"; }

  // Requests received, whatever the answer.
  uint64_t requests() const;
  // The requests answered 200, decoded, in arrival order.
  std::vector<DecodedRequest> accepted() const;
  // Their bodies as received (remote write tests decode them with wire/prometheus_rw.h).
  std::vector<std::string> accepted_bodies() const;
  // Content-Type and Content-Encoding of the last request, and any header of it.
  std::string last_content_type() const;
  std::string last_content_encoding() const;
  std::string last_header(const std::string& name) const;
  // Waits (real time) until at least n requests were accepted / received.
  bool WaitForAccepted(size_t n, std::chrono::milliseconds timeout) const;
  bool WaitForRequests(uint64_t n, std::chrono::milliseconds timeout) const;
  void SetScript(Script script);
  void ReleaseHangs();
  void Stop();

 private:
  TestReceiver();
  void Handle(const std::string& body, bool gzip, const std::string& type, int* status,
              std::string* retry_after, std::string* response);

  std::unique_ptr<http::HttpServer> server_;
  uint16_t port_ = 0;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  Script script_;                                // guarded by mu_
  uint64_t requests_ = 0;                        // guarded by mu_
  std::vector<DecodedRequest> accepted_;         // guarded by mu_
  std::vector<std::string> accepted_bodies_;     // guarded by mu_
  std::string content_type_, content_encoding_;  // guarded by mu_
  http::Headers headers_;                        // guarded by mu_
  bool released_ = false;                        // guarded by mu_
};

// A TCP port on 127.0.0.1 that was free a moment ago (bound and closed): for tests that
// need a refused connection first and a receiver on the same port later.
uint16_t FreeLoopbackPort();

}  // namespace volley::output::testing
