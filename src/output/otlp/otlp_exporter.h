// The exporter half of the OTLP reporter: the bounded batch queue and the thread that
// POSTs it, oldest first, with the OTLP/HTTP retry rules (retry_policy.h).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "batch_queue.h"
#include "otlp_transport.h"
#include "retry_policy.h"
#include "volley/output/otlp_output.h"

namespace volley::output {

// Thread-safe: Enqueue and Stats from any thread; Start and Finish from the thread that
// owns the OtlpOutput. Owns one thread (the exporter thread: the only caller of the
// transport's Post), started by Start and joined by Finish or the destructor.
class OtlpOutput::Exporter {
 public:
  using LogFn = std::function<void(const std::string&)>;

  // `ctx.clock` paces retries and deadlines and, with ctx's wall start, dates Retry-After;
  // it must outlive the exporter. `log` is called from the exporter thread.
  Exporter(const OtlpSettings& settings, const OutputContext& ctx,
           std::unique_ptr<OtlpTransport> transport, LogFn log);
  // Finish(now) if the thread still runs.
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  // Starts the exporter thread. Errors: kInternal when it cannot be started.
  Result<void> Start();
  // Queues a batch (dropping the oldest waiting ones when the queue is full) and wakes
  // the exporter.
  void Enqueue(otlp::Batch batch);
  // Queues `last` (the final collection, if any) and switches to flushing in one step, so
  // every request from now on is cut to end by `deadline`; sends what is queued until
  // then (one immediate attempt even if a backoff was running, unless the server asked to
  // wait past the deadline with Retry-After), then cancels a request still running, joins
  // the thread and counts what is left as unsent. Idempotent (later calls drop `last`).
  void Finish(Nanos deadline, std::optional<otlp::Batch> last = std::nullopt);
  // The exporter's part of the stats (batches, exports, queue, drops).
  void FillStats(OtlpStats* stats) const;

 private:
  void Loop();
  // Enqueue's work; called with mu_ held.
  void PushLocked(otlp::Batch batch);
  // Handles the outcome of sending batch `seq`; called with mu_ held.
  void OnResult(const Result<OtlpHttpReply>& result, Nanos now);
  void LogOnce(const std::string& kind, const std::string& line);
  int64_t UnixSecondsNow() const;

  // Immutable after construction.
  const OtlpSettings settings_;
  const OutputContext ctx_;
  const std::unique_ptr<OtlpTransport> transport_;  // Post on the exporter thread only
  const LogFn log_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  otlp::BatchQueue queue_;          // guarded by mu_
  delivery::Backoff backoff_;          // guarded by mu_
  Nanos next_attempt_{0};           // guarded by mu_
  bool throttled_ = false;          // guarded by mu_: next_attempt_ came from Retry-After
  bool flushing_ = false;           // guarded by mu_
  Nanos flush_deadline_{0};         // guarded by mu_
  bool abort_ = false;              // guarded by mu_
  bool done_ = false;               // guarded by mu_: Loop returned
  bool finished_ = false;           // guarded by mu_: Finish ran
  uint64_t failures_in_a_row_ = 0;  // guarded by mu_
  std::set<std::string> logged_;    // guarded by mu_: kinds of messages already logged
  OtlpStats stats_;                 // guarded by mu_ (batches, exports_*, drops)
  std::thread thread_;
};

}  // namespace volley::output
