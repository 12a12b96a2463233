// `volley ingest`: the metrics ingestion service (DESIGN.md §1, issue 6). An HTTP server
// (volley's http::HttpServer: event-driven, so slow or idle clients cannot stall it) that
// accepts k6 cloud protocol pushes and stores them in a Store.
//
// Endpoints (every error is JSON {"error":{"code":HTTP status,"message":"..."}}):
//   POST /v2/metrics/{run}  snappy-block-compressed metrics.MetricSet. Needs
//        Content-Encoding: snappy; Content-Type application/x-protobuf (or absent);
//        K6-Metrics-Protocol-Version 2.0 (absent is taken as 2.0; anything else: 400).
//   POST /v1/metrics/{run}  JSON array of Point/Points/AggregatedPoints (k6_v1.h);
//        Content-Encoding absent, identity, gzip or deflate (inflated up to max_body).
// Bodies may come with Content-Length or Transfer-Encoding: chunked (k6 sends chunked).
//   GET  /v1/runs, /v1/runs/{run}/summary, /v1/runs/{run}/series[?metric=NAME]
// Both POSTs take K6-Idempotency-Key (1..128 printable ASCII): a key already stored for
// the run makes the request a no-op answered 200 with "duplicate":true. A stored push
// answers 200 {"run","series","values","merged","duplicate":false}.
// Status codes: 400 malformed body (bad snappy, protobuf, JSON, wrong sample kinds,
// invalid spans, over a decode limit), bad run id, bad header values, unknown protocol
// version; 401 missing or wrong token (when one is configured; every endpoint); 404
// unknown run or path; 409 the batch conflicts with stored data (a metric's type, a
// trend's resolution); 413 body over max_body (refused before it is read whole); 415 wrong
// Content-Type/Encoding; 431 header too large; 503 over a connection limit; 500 storage
// failure. A request that fails changes nothing stored: the whole body is
// decoded and validated before one SQLite transaction writes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "volley/common/http_server.h"
#include "volley/common/result.h"
#include "volley/ingest/request.h"
#include "volley/ingest/store.h"

namespace volley::ingest {

// Ingest's HTTP defaults: a header in 10 s, an idle connection kept 60 s (k6 pushes every
// second on keep-alive), 4096 connections, 512 per peer address.
http::ServerOptions DefaultHttpOptions();

struct IngestOptions {
  std::string listen = "127.0.0.1:8480";  // host:port; port 0 picks a free one
  std::string token;                      // empty: no authentication
  size_t max_body = size_t{4} << 20;      // bytes on the wire, per request (413 above)
  BodyLimits limits;                      // decode bounds (decompressed size etc.)
  int threads = 4;                        // HTTP worker threads (http.worker_threads)
  // Deadlines and connection limits (name, worker_threads and max_body_bytes are set from
  // the fields above).
  http::ServerOptions http = DefaultHttpOptions();
  // Wall-clock unix milliseconds for the runs' created/updated times (tests inject one).
  std::function<int64_t()> now_ms;
};

// Thread-safe: Stop() (and the destructor) may be called from any thread except the
// server's own. Requests run on the server's worker threads; the Store serialises writes.
class IngestServer {
 public:
  // Binds, starts the threads and returns once listening. `store` must outlive the
  // server. Errors: kInvalidArgument (bad address or options), kIo (cannot bind: the
  // message names the address), kInternal (no thread).
  static Result<std::unique_ptr<IngestServer>> Start(IngestOptions options, Store& store);
  ~IngestServer();
  IngestServer(const IngestServer&) = delete;
  IngestServer& operator=(const IngestServer&) = delete;

  uint16_t port() const { return server_->port(); }
  const std::string& host() const { return server_->host(); }
  http::HttpServer::Stats stats() const { return server_->stats(); }
  // Closes the listener, finishes requests in progress, joins the threads. Idempotent.
  void Stop() { server_->Stop(); }

 private:
  IngestServer(IngestOptions options, Store& store);
  http::Router Routes();
  void Push(bool v2, const http::Request& req, http::Response& res);

  // Immutable after Start().
  const IngestOptions options_;
  Store& store_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace volley::ingest
