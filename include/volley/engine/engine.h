// The load engine: runs one test plan on worker threads (one event loop each) and feeds
// their measurements into a metrics::Collector.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "volley/common/clock.h"
#include "volley/common/result.h"
#include "volley/config/test_plan.h"
#include "volley/metrics/collector.h"

namespace volley::engine {

// Live figures for the progress line, computed once per tick.
struct Progress {
  Nanos elapsed{0};
  Nanos duration{0};        // planned length
  double interval_rps = 0;  // responses and failures per second over the last tick
  uint64_t requests = 0;    // since the start
  uint64_t errors = 0;
  double p95_seconds = 0;  // request duration p95 over the last tick (0 if none)
  int64_t in_flight = 0;
  bool stopping = false;
};

// How the run went, beside the measurements in the collector.
struct RunInfo {
  Nanos elapsed{0};          // start to the end of the drain
  bool interrupted = false;  // stopped by RequestStop()
  uint64_t abandoned = 0;    // in flight when the grace period ran out
  int threads = 0;
  int connections = 0;
  bool open_model = false;
  // For each error category that occurred: what the first such failure was, e.g.
  // {"tls_error", "self-signed certificate"}. Meant for the report's hints.
  std::map<std::string, std::string> first_errors;
};

class Engine {
 public:
  // Validates what can only be checked with the system: resolves the target (or applies
  // RESOLVE_TARGET_ADDR), loads TLS material, serializes the request. `plan` is copied.
  static Result<std::unique_ptr<Engine>> Create(const config::TestPlan& plan);
  ~Engine();

  // Runs the test and blocks until it ends (duration, request budget, schedule end, or
  // RequestStop()). Worker deltas go into `collector`, which the caller ticks through
  // `on_tick` once per tick interval, on the calling thread. Call once.
  Result<RunInfo> Run(metrics::Collector& collector,
                      const std::function<void(const Progress&)>& on_tick);

  // Thread-safe and idempotent: stop starting iterations and drain what is in flight for
  // the grace period. Not async-signal-safe; call it from a signal-handling thread.
  void RequestStop();

  // The serialized request (for --help-style diagnostics and tests).
  const std::string& request_bytes() const;

  // How often workers hand over measurements (default 1 s). Before Run().
  void set_tick(Nanos tick);

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What the engine checks of a plan before running it, without touching the network: the
// scenarios compile (regular expressions, JSON paths, ${variables} that something sets)
// and their data files load. Every problem on its own line, prefixed with its origin
// ("plan.yaml:12:7: scenarios[0].steps[1]: ..."). Engine::Create checks the same.
Result<void> CheckScenarios(const config::TestPlan& plan);

// "GET /path HTTP/1.1\r\nHost: ...\r\n...\r\n\r\nbody" for single-request mode.
std::string SerializeRequest(const config::TestPlan& plan);

}  // namespace volley::engine
