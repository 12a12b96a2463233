// The delivery path's sender: a push output's bounded backlog and the thread that POSTs
// it, oldest first, with one retry policy (delivery.h) and the protocol's own status
// classification. Used by the OTLP and remote write outputs.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "volley/output/delivery.h"
#include "volley/output/delivery_queue.h"
#include "volley/output/output.h"

namespace volley::output::delivery {

// What an answer means for its batch, by the protocol's rules.
struct Outcome {
  enum Kind {
    kOk,     // sent: removed from the backlog
    kRetry,  // kept first in line, sent again after the backoff (or Retry-After)
    kDrop,   // rejected for good: removed, counted as failed
  };
  Kind kind = kOk;
  // Logged once per `log_kind` when not empty (a drop's reason, a partial success).
  std::string log_kind;
  std::string log_line;
};

// Classifies one answer; called on the sender thread with the sender's lock held (it must
// not call back into the Sender).
using Classifier = std::function<Outcome(const DeliveryReply& reply)>;

struct SenderOptions {
  std::string endpoint;                      // for messages
  uint64_t queue_bytes = 16u << 20;          // the backlog's bound (the batch in flight included)
  Nanos timeout = std::chrono::seconds(10);  // per request
  Nanos backoff_initial = std::chrono::seconds(1);
  Nanos backoff_max = std::chrono::seconds(30);
  std::string dropped_counter = "dropped_batches_total";  // named by the queue-full message
};

struct SenderStats {
  uint64_t batches = 0;          // queued (dropped ones included)
  uint64_t exports_ok = 0;       // answered with success
  uint64_t exports_retried = 0;  // failed attempts that were retried
  uint64_t exports_failed = 0;   // dropped as not retryable
  uint64_t dropped_batches = 0;  // dropped from a full queue (oldest first)
  uint64_t unsent_at_stop = 0;   // still queued when Finish's deadline passed
  uint64_t queue_bytes = 0;      // now
  uint64_t queue_batches = 0;    // now
};

// Thread-safe: Enqueue and Stats from any thread; Start and Finish from the thread that
// owns the output. Owns one thread (the sender thread: the only caller of the transport's
// Post), started by Start and joined by Finish or the destructor.
class Sender {
 public:
  using LogFn = std::function<void(const std::string&)>;

  // `ctx.clock` paces retries and deadlines and, with ctx's wall start, dates Retry-After;
  // it must outlive the sender. `log` is called from the sender thread.
  Sender(SenderOptions options, const OutputContext& ctx,
         std::unique_ptr<DeliveryTransport> transport, Classifier classify, LogFn log);
  // Finish(now) if the thread still runs.
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Starts the sender thread. Errors: kInternal when it cannot be started.
  Result<void> Start();
  // Queues a batch (dropping the oldest waiting ones when the queue is full) and wakes
  // the sender.
  void Enqueue(Batch batch);
  // Queues `last` (the final collection, if any) and switches to flushing in one step, so
  // every request from now on is cut to end by `deadline`; sends what is queued until
  // then (one immediate attempt even if a backoff was running, unless the server asked to
  // wait past the deadline with Retry-After), then cancels a request still running, joins
  // the thread and counts what is left as unsent. Idempotent (later calls drop `last`).
  void Finish(Nanos deadline, std::optional<Batch> last = std::nullopt);
  SenderStats Stats() const;

 private:
  void Loop();
  void PushLocked(Batch batch);                                   // with mu_ held
  void OnResult(const Result<DeliveryReply>& result, Nanos now);  // with mu_ held
  void LogOnce(const std::string& kind, const std::string& line);
  int64_t UnixSecondsNow() const;

  // Immutable after construction.
  const SenderOptions options_;
  const OutputContext ctx_;
  const std::unique_ptr<DeliveryTransport> transport_;  // Post on the sender thread only
  const Classifier classify_;
  const LogFn log_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  BatchQueue queue_;                // guarded by mu_
  Backoff backoff_;                 // guarded by mu_
  Nanos next_attempt_{0};           // guarded by mu_
  bool throttled_ = false;          // guarded by mu_: next_attempt_ came from Retry-After
  bool flushing_ = false;           // guarded by mu_
  Nanos flush_deadline_{0};         // guarded by mu_
  bool abort_ = false;              // guarded by mu_
  bool done_ = false;               // guarded by mu_: Loop returned
  bool finished_ = false;           // guarded by mu_: Finish ran
  uint64_t failures_in_a_row_ = 0;  // guarded by mu_
  std::set<std::string> logged_;    // guarded by mu_: kinds of messages already logged
  SenderStats stats_;               // guarded by mu_ (all but the queue's two)
  std::thread thread_;
};

}  // namespace volley::output::delivery
