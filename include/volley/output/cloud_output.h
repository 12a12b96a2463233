// The cloud push output (DESIGN.md §6, specs/k6-metrics-v2.md): the run's interval deltas
// aggregated into time buckets, pushed to `{url}/v2/metrics/{run}` as protobuf + snappy
// (k6 cloud protocol v2), or to `{url}/v1/metrics/{run}` as JSON with apiVersion=1. Failed
// requests are retried with backoff and kept in a bounded backlog; whatever finally has to
// be dropped is counted exactly and shows in ReportLines().
//
// Threads: one aggregation thread (polls the collector every push interval, builds and
// encodes batches) and `pushConcurrency` sender threads (each with one keep-alive
// connection). Neither ever holds a lock the engine or the collector's ticker waits for
// beyond Collector's own short copy.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "volley/common/result.h"
#include "volley/output/output.h"

namespace volley::output {

// What the output did, for tests and the report. A snapshot of counters.
struct CloudStats {
  uint64_t batches_sent = 0;   // requests acknowledged with a 2xx
  uint64_t samples_sent = 0;   // (series, bucket) values in them
  uint64_t bytes_sent = 0;     // request bodies, as sent (compressed for v2)
  uint64_t attempts = 0;       // HTTP requests started, retries included
  uint64_t retries = 0;        // attempts of a request that had failed before
  uint64_t backlogged = 0;     // requests that failed their quick retries
  uint64_t backlog_bytes = 0;  // now: bodies of the requests waiting (not in flight)
  uint64_t batches_dropped = 0;
  uint64_t samples_dropped = 0;
  // Per reason: "backlog full", "rejected (4xx)", "refused by the service",
  // "unsent at the stop deadline" (only reasons with drops appear).
  std::map<std::string, std::pair<uint64_t, uint64_t>> dropped_by_reason;  // batches, samples
  uint64_t late_buckets = 0;  // buckets sent again because a delta came late
  // Gaps in what was read: the collector's ring had dropped intervals (the output fell an
  // hour behind) before this output read them; their measurements are not pushed.
  uint64_t missed_intervals = 0;
  bool refused = false;  // the service answered 403 code 4: pushing stopped
};

// Thread-safety: Create, SetLogger, Start and Stop are called from the thread that runs
// the test (Output's contract); WantsAbort, ReportLines and stats from any thread.
class CloudOutput final : public Output {
 public:
  // Builds an output from its configuration (nothing is connected yet). `url` is the base
  // ("http://host:port[/prefix]", from `--out cloud=URL` or the plan's `outputs[].url`;
  // empty: the `host` option or K6_CLOUD_HOST). `options` are the entry's key=value pairs
  // (camelCase names, see CloudEnvDocs()); `env` the process environment (K6_CLOUD_* and
  // VOLLEY_CLOUD_*; the CLI passes ProcessEnvMap() of common/env.h). Precedence: options >
  // VOLLEY_CLOUD_* > K6_CLOUD_* > defaults. `ctx` gives the run id (pushRefId /
  // K6_CLOUD_PUSH_REF_ID replace it), the metric namespace, the time mapping and the clock; its
  // clock must outlive the output. Errors: kInvalidArgument naming the option or variable and the
  // fix.
  static Result<std::unique_ptr<CloudOutput>> Create(
      const std::string& url, const std::vector<std::pair<std::string, std::string>>& options,
      const std::map<std::string, std::string>& env, const OutputContext& ctx);

  // Help text for --help: every option, its environment variables and default.
  static std::string CloudEnvDocs();

  // Stop(now) if Stop() was not called.
  ~CloudOutput() override;
  CloudOutput(const CloudOutput&) = delete;
  CloudOutput& operator=(const CloudOutput&) = delete;

  // Where warnings go (one line each, without newline): a failure of a new kind (later
  // ones of that kind are only counted), dropped reserved labels, refusal. Default:
  // stderr prefixed "volley: ". Call before Start(); `log` is called from the output's
  // threads, never concurrently with itself.
  using LogFn = std::function<void(const std::string&)>;
  void SetLogger(LogFn log);

  std::string Name() const override { return "cloud"; }
  // Starts the threads. Fails (kInternal) only if a thread cannot start, or if called
  // twice.
  Result<void> Start(const metrics::Collector& collector) override;
  // Reads the collector a last time, sends every bucket left (the wait period drops to
  // zero), retrying within `deadline` (the context clock's time), then ends in-flight
  // requests and joins the threads; what is still unsent is dropped and counted.
  // Idempotent.
  void Stop(Nanos deadline) override;
  // True once the service refused further metrics (403 code 4) and stopOnError is set.
  bool WantsAbort() const override;
  // e.g. "cloud: 42 requests (1234 samples, 56 KiB) to http://h/v2/metrics/run, 3 retries,
  // 0 batches dropped"; a line per drop reason when something was dropped.
  std::vector<std::string> ReportLines() const override;
  CloudStats stats() const;

 private:
  struct Impl;
  explicit CloudOutput(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace volley::output
