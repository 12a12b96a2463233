// `volley target`: a fast, multi-threaded HTTP/1.1 server for demos, tests and benchmarks.
//
// Every request (any method, any path) is answered with a status from the configured mix and
// a body of body_size bytes, optionally after a fixed or random latency, and not at all during
// stall windows (answers due then are held until the window ends; requests are still read).
// Two control endpoints skip latency and stalls (but still follow any answer queued before
// them on the same connection) and are not counted in the stats:
//   GET  /__volley/stats  -> StatsJson()
//   POST /__volley/reset  -> ResetStats(), answers {"reset":true}
//
// Threads: N worker threads, each running its own EventLoop with its own SO_REUSEPORT
// listening socket (the kernel spreads connections over the workers by their 4-tuple, so
// accepting never contends and no thread is woken for nothing, unlike one shared listener
// where EPOLLEXCLUSIVE still favours the most recently idle waiter). A connection lives and
// dies on the worker that accepted it; the workers share nothing but read-only response
// buffers and their own single-writer counters. The price: with very few connections the
// hash may put two of them on one worker while another idles.
//
// HTTP/1.1 as served: keep-alive by default (HTTP/1.0: close unless "Connection: keep-alive");
// "Connection: close" honoured; pipelined requests answered in order; bodies framed by
// Content-Length or chunked Transfer-Encoding are read and discarded (other transfer codings:
// 501); "Expect: 100-continue" gets an interim 100. A header block over 16 KiB, or anything
// that is not HTTP/1.x, is answered 400 (505 for other HTTP versions) and the connection is
// closed. Memory per connection is bounded: at most 16 KiB of input and 32 queued answers.
// Not done: no Date header (answers are prebuilt byte strings) and no idle timeout (an idle
// keep-alive connection stays until the peer closes it or Stop()).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/result.h"
#include "volley/target/options.h"

namespace volley::target {

class Worker;
struct SharedState;
struct CounterTotals;

// Counters since the server started or since the last ResetStats().
struct TargetStats {
  // Requests read, including those answered 400/501/505; control requests are not counted.
  uint64_t requests = 0;
  // Answers handed to the socket (not 100 Continue, not control answers). Lags `requests`
  // by the answers held back by latency or a stall.
  uint64_t responses = 0;
  std::map<int, uint64_t> by_status;  // responses by status code; only codes seen
  // Connections that sent at least one non-control request (so polling the stats on a
  // connection of its own does not change them).
  uint64_t connections = 0;
  // Bytes of counted responses, counted as they are handed to the socket; what a dying
  // connection never sent is taken back.
  uint64_t bytes_sent = 0;
  Nanos uptime{0};  // since Start(); not affected by ResetStats()
};

// Thread-safe: every public method may be called from any thread (Stop() not from a worker
// thread, which no caller code runs on anyway). As for any object, nothing may be called
// while or after the destructor runs.
class TargetServer {
 public:
  // Binds one listening socket per thread to options.listen (port 0 picks an ephemeral
  // port, the same for all threads) and starts the threads. Errors: kInvalidArgument for
  // bad options (see ValidateTargetOptions), kIo when a socket cannot be bound (the message
  // names the address), kInternal when a thread cannot be started.
  static Result<std::unique_ptr<TargetServer>> Start(const TargetOptions& options);

  // Stops and joins the threads.
  ~TargetServer();
  TargetServer(const TargetServer&) = delete;
  TargetServer& operator=(const TargetServer&) = delete;

  // The bound port (the ephemeral one when options.listen asked for port 0).
  uint16_t port() const { return port_; }
  // The address that was bound, e.g. "127.0.0.1".
  const std::string& host() const { return host_; }
  int threads() const { return static_cast<int>(workers_.size()); }
  // The MonotonicNow() at which the server started: stall windows are measured from it.
  Nanos start_time() const { return start_time_; }

  // Sums the per-thread counters (relaxed reads; each thread's numbers are exact, the sum is
  // a near-instant snapshot while traffic flows) minus the last reset's baseline.
  TargetStats Stats() const;
  // Stats() as {"requests":N,"responses":N,"by_status":{"200":N},"connections":N,
  // "bytes_sent":N,"uptime_s":X}.
  std::string StatsJson() const;
  // Makes the counters start again from zero (a baseline is taken; workers never block).
  void ResetStats();

  // Closes the listeners and all connections and joins the threads. Idempotent. Stats()
  // still works afterwards. Must not be called from a worker thread.
  void Stop();

 private:
  TargetServer();
  target::CounterTotals SumCounters() const;

  // Immutable after Start().
  std::unique_ptr<target::SharedState> shared_;
  std::vector<std::unique_ptr<target::Worker>> workers_;
  std::string host_;
  uint16_t port_ = 0;
  Nanos start_time_{0};

  std::mutex stop_mu_;                // serialises Stop()
  std::vector<std::thread> threads_;  // guarded by stop_mu_ after Start()
  bool stopped_ = false;              // guarded by stop_mu_

  mutable std::mutex stats_mu_;
  std::unique_ptr<target::CounterTotals> baseline_;  // guarded by stats_mu_
};

}  // namespace volley::target
