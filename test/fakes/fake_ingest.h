// Test support: a loopback metrics ingest (http::HttpServer on 127.0.0.1) for the cloud
// output's fault tests. It decodes v2 bodies (snappy + protobuf) and v1 JSON with the
// wire codec, answers from a script (any status, Retry-After, a JSON error, a slow answer)
// and keeps what it accepted the way the real ingest would: a request whose idempotency
// key it already stored is answered 200 and not stored again; duplicate (series, time)
// values merge. Test-only code; not part of volley.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/http_server.h"
#include "volley/metrics/snapshot.h"

namespace volley::output::testing {

// How the ingest answers a request.
struct IngestAnswer {
  int status = 200;
  std::string body;         // e.g. {"error":{"code":4,"message":"..."}}
  std::string retry_after;  // Retry-After header, if not empty
  // Store the body (when it decodes) even though the answer is not 2xx (a 2xx always
  // stores). A slow answer (below) of a stored request models "stored, but the client
  // timed out".
  bool store = false;
  Nanos delay{0};  // answer after this (real time), or when Release() is called
};

// Decides the answer to request number n (1-based, in arrival order).
using IngestScript = std::function<IngestAnswer(int n)>;

// What one request looked like.
struct IngestRequest {
  std::string path;
  std::map<std::string, std::string> headers;  // the ones the spec names
  Nanos arrival{0};                            // SteadyClock
  bool decoded = false;
  size_t series = 0;  // time series in the body (when decoded and stored)
  std::string error;  // why it did not decode
};

// Thread-safe.
class FakeIngest {
 public:
  // `script` may be empty: always 200.
  explicit FakeIngest(IngestScript script = {});
  ~FakeIngest();  // Stop()s

  // Listens on 127.0.0.1:`port` (0: an ephemeral one). False if it cannot bind.
  bool Start(uint16_t port = 0);
  // Releases slow answers, stops the server, joins its threads. Idempotent.
  void Stop();
  // Ends every delayed answer now.
  void Release();

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Every series accepted, merged over all times, names as sent.
  metrics::Snapshot Totals() const;
  // v1 aggregated_trend samples carry no distribution: their counts per series.
  std::map<metrics::SeriesKey, uint64_t> V1TrendCounts() const;
  // (series, time) values accepted, counting a value merged twice as one.
  size_t distinct_values() const;
  // The distinct times (unix seconds) of the values accepted.
  std::set<int64_t> times() const;
  // Values accepted, counting each (series, time) value of each stored request.
  uint64_t values_stored() const;
  std::vector<IngestRequest> requests() const;
  size_t stored_requests() const;     // distinct idempotency keys stored
  size_t duplicate_requests() const;  // requests whose key was stored already
  // Blocks until `pred(*this)` holds (checked whenever a request arrives) or `timeout`.
  bool WaitFor(const std::function<bool(const FakeIngest&)>& pred, Nanos timeout) const;

 private:
  IngestAnswer Handle(const std::string& path, const std::map<std::string, std::string>& headers,
                      const std::string& body);
  bool StoreLocked(const std::string& path, const std::string& body, IngestRequest* r);

  const IngestScript script_;
  std::unique_ptr<http::HttpServer> server_;
  uint16_t port_ = 0;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool released_ = false;                                   // guarded by mu_
  uint64_t events_ = 0;                                     // guarded by mu_: requests arrived
  std::vector<IngestRequest> requests_;                     // guarded by mu_
  std::set<std::string> stored_keys_;                       // guarded by mu_
  size_t duplicates_ = 0;                                   // guarded by mu_
  metrics::Snapshot totals_;                                // guarded by mu_
  std::set<std::pair<metrics::SeriesKey, int64_t>> times_;  // guarded by mu_
  uint64_t values_stored_ = 0;                              // guarded by mu_
  std::map<metrics::SeriesKey, uint64_t> v1_trend_counts_;  // guarded by mu_
};

}  // namespace volley::output::testing
