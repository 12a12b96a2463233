// Prometheus remote write 1.0 (specs/integrations.md §3): every push interval the output
// takes the run's cumulative Snapshot, turns it into the samples /metrics serves
// (PrometheusSamples: one naming scheme everywhere), encodes ONE WriteRequest
// (wire/prometheus_rw.h, snappy) stamped with the collection time, and hands it to the
// delivery path (delivery_sender.h), which POSTs the backlog oldest first.
//
// Why nothing is stored twice and nothing is lost within the backlog: every sample is
// cumulative (counters, rates, histogram buckets, sums and counts since the run started)
// and a batch's samples all carry its own timestamp, so a batch re-sent after a lost
// answer writes the same (series, timestamp, value) again, which Prometheus keeps once; and
// a batch leaves the backlog only when the endpoint answered it. When the backlog is full
// the OLDEST waiting batch is dropped and counted (a report line and
// `<ns>_prometheus_rw_dropped_batches_total`): for cumulative data that costs resolution,
// never totals. At the end of the run every series written gets a stale marker one
// millisecond after its last sample, so queries stop seeing it at once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/result.h"
#include "volley/metrics/collector.h"
#include "volley/metrics/series.h"
#include "volley/output/delivery.h"
#include "volley/output/output.h"

namespace volley::output {

// The parsed `--out prometheus-rw[=URL]` / plan entry options and K6_PROMETHEUS_RW_*
// environment. A plain value.
struct PrometheusRwSettings {
  std::string url = "http://localhost:9090/api/v1/write";
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  std::string username;                                      // basic auth when set (with password)
  std::string password;
  std::string bearer_token;  // `Authorization: Bearer ...` when set
  Nanos push_interval = std::chrono::seconds(5);
  Nanos timeout = std::chrono::seconds(10);  // per request
  metrics::Labels labels;                    // extra labels on every series
  bool stale_markers = true;                 // mark every series stale at the end
  // The backlog's bound (encoded bytes, the batch in flight included); see the README's
  // coverage table for how long an outage it covers.
  uint64_t queue_bytes = 64ull << 20;
  Nanos backoff_initial = std::chrono::seconds(1);
  Nanos backoff_max = std::chrono::seconds(30);
};

// Parses the options and the K6_PROMETHEUS_RW_* variables of `env` (see
// PrometheusRwOutput::EnvDocs). Precedence: options over variables over defaults; `url`
// (from `--out prometheus-rw=URL` or the plan's `url:`) wins over both. Errors:
// kInvalidArgument naming the option or variable, the bad value and the accepted forms (all
// problems in one message, one per line).
Result<PrometheusRwSettings> ParsePrometheusRwSettings(
    const std::string& url, const std::vector<std::pair<std::string, std::string>>& options,
    const std::map<std::string, std::string>& env);

// What an answer of a remote write endpoint means (the spec's rules): 2xx sent; 5xx and
// 429 retried (429 after its Retry-After when given); any other status rejected for good.
enum class RwReplyClass { kOk, kRetryable, kFatal };
RwReplyClass ClassifyRemoteWriteStatus(int status);

// The output's counts. Plain values; a consistent copy from stats().
struct PrometheusRwStats {
  uint64_t batches = 0;          // collected and queued (the stale-marker batch included)
  uint64_t writes_ok = 0;        // batches the endpoint accepted (2xx)
  uint64_t writes_failed = 0;    // batches rejected for good (400, 401, ...)
  uint64_t writes_retried = 0;   // attempts that failed retryably and were retried
  uint64_t dropped_batches = 0;  // dropped from a full backlog (oldest first)
  uint64_t unsent_at_stop = 0;   // still queued when Stop's deadline passed
  uint64_t queue_bytes = 0;      // now
  uint64_t series = 0;           // distinct series written so far
};

// Thread ownership as OtlpOutput: Create, Start, Stop, stats, ReportLines and the
// destructor on the thread that runs the test (stats and ReportLines are thread-safe).
// Start starts the collection thread (delivery::Ticker) and the sender thread
// (delivery::Sender); Stop joins both.
class PrometheusRwOutput final : public Output {
 public:
  // Parses the settings and prepares the HTTP transport; nothing connects yet. `ctx` is
  // copied; ctx.clock must outlive the output.
  static Result<std::unique_ptr<PrometheusRwOutput>> Create(
      const std::string& url, const std::vector<std::pair<std::string, std::string>>& options,
      const std::map<std::string, std::string>& env, const OutputContext& ctx);
  // For tests: settings already parsed, any transport (owned from now on). Errors:
  // kInvalidArgument for a null transport or clock, or a bad extra label.
  static Result<std::unique_ptr<PrometheusRwOutput>> CreateWithTransport(
      PrometheusRwSettings settings, const OutputContext& ctx,
      std::unique_ptr<delivery::DeliveryTransport> transport);
  // The headers every request carries (Content-Encoding, Content-Type, User-Agent,
  // X-Prometheus-Remote-Write-Version, Authorization when configured, extra headers).
  static std::vector<std::pair<std::string, std::string>> RequestHeaders(
      const PrometheusRwSettings& settings);
  // The options and variables understood, for --help.
  static std::string EnvDocs();

  // Stops with a deadline of now if Stop() was not called.
  ~PrometheusRwOutput() override;
  PrometheusRwOutput(const PrometheusRwOutput&) = delete;
  PrometheusRwOutput& operator=(const PrometheusRwOutput&) = delete;

  std::string Name() const override { return "prometheus-rw"; }
  // Starts both threads; the first collection is one push interval after Start. A second
  // call does nothing. Errors: kInternal if a thread cannot be started.
  Result<void> Start(const metrics::Collector& collector) override;
  // Stops the collection thread, makes a last collection and (stale_markers) the stale
  // markers, lets the sender send the backlog until `deadline`, and joins both threads.
  // Idempotent; a Stop without Start does nothing.
  void Stop(Nanos deadline) override;
  // E.g. "prometheus-rw: 12 batches to http://p:9090/api/v1/write: 12 written, 3 retries,
  // 0 rejected, 0 dropped (backlog full), 0 unsent at stop; 40 series".
  std::vector<std::string> ReportLines() const override;

  PrometheusRwStats stats() const;
  const PrometheusRwSettings& settings() const;
  // Where log lines go (default: stderr, "volley: prometheus-rw: ..."). Called from the
  // output's threads, never concurrently with itself.
  void set_log_sink(std::function<void(const std::string&)> sink);

 private:
  struct Impl;
  explicit PrometheusRwOutput(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace volley::output
