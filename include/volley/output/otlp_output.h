// The OTLP/HTTP metrics reporter (issue 7, DESIGN.md §6): every interval it takes the
// node's cumulative Snapshot, filters it, encodes ONE export batch (wire/otlp_metrics.h)
// with its own timestamp and queues it; an exporter thread POSTs the queue to an
// OpenTelemetry endpoint, oldest first, retrying what the OTLP spec calls retryable.
//
// Why nothing is lost within the bound and nothing is counted twice: every point is
// cumulative with the run start as its fixed start time, so re-sending a batch (after a
// timeout whose answer was lost, say) is idempotent for the backend, and a batch is removed
// from the queue only when the endpoint answered it. The queue is bounded in bytes; when
// it is full the OLDEST waiting batch is dropped and counted (dropped_batches, the
// `<ns>_otlp_dropped_batches_total` self-metric and a report line): for cumulative data
// that costs resolution only, never totals.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/result.h"
#include "volley/metrics/collector.h"
#include "volley/metrics/series.h"
#include "volley/output/delivery.h"
#include "volley/output/output.h"

namespace volley::output {

// Everything the reporter was configured with: the parsed `--out otlp[=URL]` / plan entry
// options and OTEL_* environment. A plain value.
struct OtlpSettings {
  std::string endpoint = "http://localhost:4318/v1/metrics";  // the full POST URL
  std::vector<std::pair<std::string, std::string>> headers;   // extra request headers
  Nanos timeout = std::chrono::seconds(10);                   // per request
  bool gzip = false;
  Nanos interval = std::chrono::seconds(10);  // between collections
  std::string service_name = "volley";
  // From OTEL_RESOURCE_ATTRIBUTES, in order (service.name and service.instance.id are set
  // by the reporter and win over these).
  std::vector<std::pair<std::string, std::string>> resource_attributes;
  // RE2 patterns on exported metric names (`<ns>_<name>`, partial match: anchor with ^ and
  // $ for a full one). A series is exported when it matches some include pattern (or there
  // is none) and no exclude pattern.
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  metrics::Labels labels;                // extra data-point attributes
  uint64_t queue_bytes = 16ull << 20;    // bound of the batches waiting (encoded bytes)
  std::vector<double> histogram_bounds;  // empty: DefaultLeBounds() (prometheus.h)
  Nanos backoff_initial = std::chrono::seconds(1);
  Nanos backoff_max = std::chrono::seconds(30);
  // Things worth telling the user that are not errors (e.g. an ignored variable).
  std::vector<std::string> warnings;
};

// Parses the output's options and the OTEL_* variables of `env` (see OtlpEnvDocs()).
// Precedence: options over `_METRICS_` variables over the general OTEL_EXPORTER_OTLP_*
// ones over defaults. `url` (from `--out otlp=URL` or the plan's `url:`) wins over every
// variable: a URL without a path (or "/") gets "/v1/metrics" appended, one with a path is
// used as is. Errors: kInvalidArgument naming the option or variable, the bad value and the
// accepted forms (all problems in one message, one per line).
Result<OtlpSettings> ParseOtlpSettings(
    const std::string& url, const std::vector<std::pair<std::string, std::string>>& options,
    const std::map<std::string, std::string>& env);

// The reporter's self-metrics. Plain values; a consistent copy from stats().
struct OtlpStats {
  uint64_t batches = 0;          // collected and queued
  uint64_t exports_ok = 0;       // batches the endpoint accepted (2xx, partial success too)
  uint64_t exports_failed = 0;   // batches dropped on a non-retryable answer (400, 401, ...)
  uint64_t exports_retried = 0;  // attempts that failed retryably and were retried
  uint64_t partial_successes = 0;
  uint64_t rejected_points = 0;  // sum of partial_success.rejected_data_points
  uint64_t dropped_batches = 0;  // dropped from a full queue (oldest first)
  uint64_t unsent_at_stop = 0;   // still queued when Stop's deadline passed
  uint64_t queue_bytes = 0;      // now
  uint64_t queue_batches = 0;    // now
};

// What carries a request to the endpoint (the delivery path's transport interface); the
// reporter owns one (http by default, a fake in tests).
using OtlpTransport = delivery::DeliveryTransport;
namespace delivery {
struct Batch;
struct Outcome;
class Sender;
class Ticker;
}  // namespace delivery

// Thread ownership: Create, Start, Stop, stats, ReportLines and the destructor are called
// from the thread that runs the test (stats and ReportLines are thread-safe anyway). Start
// starts two threads the reporter owns and joins in Stop: the collection thread (wakes
// every interval, copies Collector::Cumulative(), encodes, queues; it never does I/O, so
// it keeps its interval whatever the endpoint does) and the exporter thread (the only one
// that talks to the endpoint).
class OtlpOutput final : public Output {
 public:
  // Parses the settings (ParseOtlpSettings) and prepares the HTTP transport; nothing
  // connects yet. `ctx` is copied; ctx.clock must outlive the output.
  static Result<std::unique_ptr<OtlpOutput>> Create(
      const std::string& url, const std::vector<std::pair<std::string, std::string>>& options,
      const std::map<std::string, std::string>& env, const OutputContext& ctx);
  // For tests and embedders: settings already parsed, any transport (owned from now on).
  // Errors: kInvalidArgument for a bad include/exclude pattern or a null transport.
  static Result<std::unique_ptr<OtlpOutput>> CreateWithTransport(
      OtlpSettings settings, const OutputContext& ctx, std::unique_ptr<OtlpTransport> transport);

  // The OTEL_* variables and options understood, for --help.
  static std::string OtlpEnvDocs();

  // Stops with a deadline of now (no flush wait) if Stop() was not called.
  ~OtlpOutput() override;
  OtlpOutput(const OtlpOutput&) = delete;
  OtlpOutput& operator=(const OtlpOutput&) = delete;

  std::string Name() const override { return "otlp"; }
  // Starts both threads; the first collection is one interval after Start. A second call
  // does nothing. Errors: kInternal if a thread cannot be started.
  Result<void> Start(const metrics::Collector& collector) override;
  // Stops the collection thread, makes a last collection, lets the exporter send what is
  // queued until `deadline` (requests are cut to end by it; a request still running then is
  // cancelled), and joins both threads. Batches still queued are counted in unsent_at_stop.
  // Idempotent; a Stop without Start does nothing.
  void Stop(Nanos deadline) override;
  // E.g. "otlp: 12 batches to http://c:4318/v1/metrics: 12 exported, 3 retries, 0 rejected,
  // 0 dropped (queue full), 0 unsent at stop".
  std::vector<std::string> ReportLines() const override;

  OtlpStats stats() const;
  const OtlpSettings& settings() const { return settings_; }
  // Where log lines go (default: stderr, "volley: otlp: ..."). Called from the reporter's
  // threads, never concurrently with itself; it must not call back into the output.
  void set_log_sink(std::function<void(const std::string&)> sink);
  // For tests: the number of collections made so far (thread-safe).
  uint64_t collections() const;

 private:
  OtlpOutput(OtlpSettings settings, const OutputContext& ctx,
             std::unique_ptr<OtlpTransport> transport);
  // One export batch of the collector's cumulative snapshot at `now` (nullopt if it could
  // not be made: a gzip failure, logged).
  std::optional<delivery::Batch> Collect(Nanos now);
  // The OTLP/HTTP rules for an answer (on the sender thread).
  delivery::Outcome Classify(const delivery::DeliveryReply& reply);
  void Log(const std::string& line);

  // Immutable after construction.
  const OtlpSettings settings_;
  const OutputContext ctx_;
  std::unique_ptr<delivery::Sender> exporter_;  // the delivery path's sender
  std::unique_ptr<delivery::Ticker> ticker_;    // the collection thread
  struct Filter;
  std::unique_ptr<Filter> filter_;

  std::function<void(const std::string&)> log_sink_;  // set before Start
  std::mutex log_mu_;                                 // serialises log_sink_ calls

  const metrics::Collector* collector_ = nullptr;  // set by Start
  std::mutex mu_;
  bool started_ = false;  // guarded by mu_
  bool stopped_ = false;  // guarded by mu_
  // Confined to the collecting thread (the collection thread, then Stop's after joining
  // it): the last batch timestamp, so timestamps strictly increase.
  uint64_t last_time_unix_ = 0;
  std::atomic<uint64_t> collections_{0};
  std::atomic<uint64_t> partial_successes_{0};  // counted by Classify
  std::atomic<uint64_t> rejected_points_{0};
};

}  // namespace volley::output
