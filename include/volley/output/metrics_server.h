// The Prometheus pull endpoint (DESIGN.md §6, --metrics-addr / METRICS_ADDR): an HTTP
// server on its own threads (volley's http::HttpServer) that answers `GET /metrics` with whatever a
// render callback returns, typically RenderPrometheus(collector.Cumulative(), options).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "volley/common/clock.h"
#include "volley/common/http_server.h"
#include "volley/common/result.h"

namespace volley::output {

// Thread-safe: every public method may be called from any thread, except that Stop() and
// the destructor must not be called from inside the render callback (they join the
// threads that run it).
//
// What it serves: `GET /metrics` (and HEAD) answers 200 with the callback's text and
// `Content-Type: text/plain; version=0.0.4; charset=utf-8`; every other path 404, other
// methods on /metrics 404 too. A callback that throws gives a 500. Requests are bounded:
// request line and headers by 8 KiB (431), a body by 4 KiB (longer: 413). Every answer
// closes its connection (a scrape a few seconds apart gains nothing from keep-alive, and
// Stop() then never waits for idle connections); a connection that sends nothing is
// dropped after 2 s, a header not complete after 5 s, a stalled read or write after 5 s.
// Any number of slow or idle clients cost memory, never a scrape (up to 1024 connections,
// 256 per peer address; 503 above).
//
// The listening socket has SO_REUSEADDR but not SO_REUSEPORT, so a second process asking
// for a port in use gets an error instead of silently sharing it.
class MetricsServer {
 public:
  // Called once per scrape on one of the server's own threads (a small pool; never the
  // caller of Start), never concurrently with itself, so it needs no locking of its own
  // beyond what reading its data source takes (Collector::Cumulative() is thread-safe).
  // Whatever it captures must outlive the server (call Stop() first). It should be quick:
  // scrapes queue behind it.
  using RenderFn = std::function<std::string()>;

  // Binds `addr` ("0.0.0.0:9090", "127.0.0.1:0" for an ephemeral port, ":9090",
  // "[::1]:9090", "localhost:9090"), starts the server's threads and returns once the
  // socket is listening (a connect right after Start succeeds). Errors: kInvalidArgument
  // for an address that does not parse; kIo when the socket cannot be bound, the message
  // naming the address, the reason (address in use, permission denied, not a local
  // address) and the fix; kInternal if a thread cannot be started.
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& addr, RenderFn render);
  // The same with other deadlines and limits (tests shorten them).
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& addr, RenderFn render,
                                                      http::ServerOptions options);
  // The defaults described above.
  static http::ServerOptions DefaultHttpOptions();

  // Stop()s.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The bound port (the ephemeral one when `addr` asked for port 0) and host literal.
  uint16_t port() const { return server_->port(); }
  const std::string& host() const { return server_->host(); }
  http::HttpServer::Stats stats() const { return server_->stats(); }

  // Scrapes so far: GET (or HEAD) /metrics requests whose render call has begun. Counting at the
  // start of the call means that a scrape counted after the caller read scrapes() == n rendered
  // data at least as new as that moment.
  uint64_t scrapes() const;

  // Blocks until scrapes() > n, `timeout` passes or the server is stopped (at once if it
  // already is), and returns scrapes() > n. With n = scrapes() read after the final values are in
  // place, true means a scrape has picked them up; Stop() afterwards still lets its answer be sent.
  bool WaitForScrapeAfter(uint64_t n, Nanos timeout);

  // Closes the listener, finishes the requests being answered and joins the threads.
  // Idempotent; scrapes() keeps its value afterwards.
  void Stop();

 private:
  explicit MetricsServer(RenderFn render);
  void Serve(std::string* body, int* status);

  // Immutable after Start().
  const RenderFn render_;
  std::unique_ptr<http::HttpServer> server_;

  std::mutex render_mu_;  // serialises render_ calls

  mutable std::mutex mu_;
  std::condition_variable cv_;  // signalled when scrapes_ grows or stopped_ is set
  uint64_t scrapes_ = 0;        // guarded by mu_
  bool stopped_ = false;        // guarded by mu_
};

}  // namespace volley::output
