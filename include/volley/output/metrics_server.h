// The Prometheus pull endpoint (DESIGN.md §6, --metrics-addr / METRICS_ADDR): an HTTP
// server on its own threads (cpp-httplib) that answers `GET /metrics` with whatever a
// render callback returns, typically RenderPrometheus(collector.Cumulative(), options).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "volley/common/clock.h"
#include "volley/common/result.h"

namespace httplib {
class Server;
}

namespace volley::output {

// Thread-safe: every public method may be called from any thread, except that Stop() and
// the destructor must not be called from inside the render callback (they join the
// threads that run it).
//
// What it serves: `GET /metrics` (and HEAD) answers 200 with the callback's text and
// `Content-Type: text/plain; version=0.0.4; charset=utf-8`; every other path 404, other
// methods on /metrics 404 too (cpp-httplib routes by method). A callback that throws gives
// a 500. Requests are bounded: request line and headers by cpp-httplib's 8 KiB limits, a
// body by 4 KiB (longer: 413). Every answer closes its connection (a scrape a few seconds
// apart gains nothing from keep-alive, and Stop() then never waits for idle connections);
// a connection that sends nothing is dropped after 2 s, a stalled read or write after 5 s.
//
// The listening socket has SO_REUSEADDR but not SO_REUSEPORT (cpp-httplib's default), so a
// second process asking for a port in use gets an error instead of silently sharing it.
//
// Writes to a peer that has gone away may raise SIGPIPE: the process must ignore SIGPIPE
// (the volley CLI does).
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

  // Stop()s.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The bound port (the ephemeral one when `addr` asked for port 0) and host literal.
  uint16_t port() const { return port_; }
  const std::string& host() const { return host_; }

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
  std::unique_ptr<httplib::Server> server_;
  std::string host_;
  uint16_t port_ = 0;

  std::mutex render_mu_;  // serialises render_ calls

  mutable std::mutex mu_;
  std::condition_variable cv_;  // signalled when scrapes_ grows or stopped_ is set
  uint64_t scrapes_ = 0;        // guarded by mu_
  bool stopped_ = false;        // guarded by mu_

  std::mutex stop_mu_;   // serialises Stop()
  std::thread thread_;   // the accept loop; guarded by stop_mu_ after Start()
  bool joined_ = false;  // guarded by stop_mu_
};

}  // namespace volley::output
