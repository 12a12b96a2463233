// `volley ingest`: the metrics ingestion service (DESIGN.md §1, issue 6). An HTTP server
// (cpp-httplib, a small thread pool) that accepts k6 cloud protocol pushes and stores
// them in a Store.
//
// Endpoints (every error is JSON {"error":{"code":HTTP status,"message":"..."}}):
//   POST /v2/metrics/{run}  snappy-block-compressed metrics.MetricSet. Needs
//        Content-Encoding: snappy; Content-Type application/x-protobuf (or absent);
//        K6-Metrics-Protocol-Version 2.0 (absent is taken as 2.0; anything else: 400).
//   POST /v1/metrics/{run}  JSON array of Point/Points/AggregatedPoints (k6_v1.h);
//        Content-Encoding absent or identity (gzip is refused with 415).
//   GET  /v1/runs, /v1/runs/{run}/summary, /v1/runs/{run}/series[?metric=NAME]
// Both POSTs take K6-Idempotency-Key (1..128 printable ASCII): a key already stored for
// the run makes the request a no-op answered 200 with "duplicate":true. A stored push
// answers 200 {"run","series","values","merged","duplicate":false}.
// Status codes: 400 malformed body (bad snappy, protobuf, JSON, wrong sample kinds,
// invalid spans, over a decode limit), bad run id, bad header values, unknown protocol
// version; 401 missing or wrong token (when one is configured; every endpoint); 404
// unknown run or path; 409 the batch conflicts with stored data (a metric's type, a
// trend's resolution); 413 body over max_body; 415 wrong Content-Type/Encoding; 500
// storage failure. A request that fails changes nothing stored: the whole body is
// decoded and validated before one SQLite transaction writes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "volley/common/result.h"
#include "volley/ingest/request.h"
#include "volley/ingest/store.h"

namespace httplib {
class Server;
}

namespace volley::ingest {

struct IngestOptions {
  std::string listen = "127.0.0.1:8480";  // host:port; port 0 picks a free one
  std::string token;                       // empty: no authentication
  size_t max_body = size_t{4} << 20;       // bytes on the wire, per request (413 above)
  BodyLimits limits;                        // decode bounds (decompressed size etc.)
  int threads = 4;                          // HTTP worker threads
  // Wall-clock unix milliseconds for the runs' created/updated times (tests inject one).
  std::function<int64_t()> now_ms;
};

// Thread-safe: Stop() (and the destructor) may be called from any thread except the
// server's own. Requests run on the server's thread pool; the Store serialises writes.
class IngestServer {
 public:
  // Binds, starts the threads and returns once listening. `store` must outlive the
  // server. Errors: kInvalidArgument (bad address or options), kIo (cannot bind: the
  // message names the address), kInternal (no thread).
  static Result<std::unique_ptr<IngestServer>> Start(IngestOptions options, Store& store);
  ~IngestServer();
  IngestServer(const IngestServer&) = delete;
  IngestServer& operator=(const IngestServer&) = delete;

  uint16_t port() const { return port_; }
  const std::string& host() const { return host_; }
  // Closes the listener, finishes requests in progress, joins the threads. Idempotent.
  void Stop();

 private:
  IngestServer(IngestOptions options, Store& store);
  void Route();

  // Immutable after Start().
  const IngestOptions options_;
  Store& store_;
  std::unique_ptr<httplib::Server> server_;
  std::string host_;
  uint16_t port_ = 0;
  std::mutex stop_mu_;   // serialises Stop()
  std::thread thread_;   // the accept loop; guarded by stop_mu_ after Start()
  bool stopped_ = false;  // guarded by stop_mu_
};

}  // namespace volley::ingest
