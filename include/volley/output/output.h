// The interface of outputs that ship measurements elsewhere while a test runs (cloud push,
// OTLP). Each reads the run's metrics::Collector from a thread of its own, so the engine
// and the thread that ticks the collector are never blocked by a slow or dead endpoint.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/result.h"
#include "volley/metrics/collector.h"

namespace volley::output {

// Facts about the run every output needs. Times of the collector (Interval::start/end) are
// on the Clock the run uses; `wall_start_unix_nanos` is the wall-clock time of
// `collector_start`, so collector time t is unix time wall_start + (t - collector_start).
struct OutputContext {
  Nanos collector_start{0};
  int64_t wall_start_unix_nanos = 0;
  std::string run_id;
  std::string node_id;
  std::string region;
  std::string metric_namespace = "volley";
  // Thread-safe; must outlive the output. Tests pass a FakeClock.
  const Clock* clock = &SteadyClock::Instance();
};

class Output {
 public:
  virtual ~Output() = default;

  // "cloud", "otlp", ... (for messages).
  virtual std::string Name() const = 0;

  // Starts the output's own threads, which read `collector` (thread-safe; it must outlive
  // the output, i.e. until Stop() returned). Called once, from the thread that runs the
  // test. An error (e.g. the endpoint refused the run) is reported before the test starts.
  virtual Result<void> Start(const metrics::Collector& collector) = 0;

  // After the test's last collector tick: makes a last collection, flushes what it can
  // before `deadline` (on the output's clock), and joins every thread it started.
  // Idempotent; called from the thread that called Start().
  virtual void Stop(Nanos deadline) = 0;

  // Thread-safe: true once the output asks the test to stop (e.g. the ingest service
  // refused further metrics and the user configured stop-on-error).
  virtual bool WantsAbort() const { return false; }

  // Lines for the final report after Stop(): what was sent, retried and dropped, e.g.
  // "cloud: 42 requests, 3 retried, 0 batches dropped". Never silent about loss.
  virtual std::vector<std::string> ReportLines() const = 0;
};

}  // namespace volley::output
