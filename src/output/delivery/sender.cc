#include <system_error>
#include <utility>

#include "volley/output/delivery_sender.h"

namespace volley::output::delivery {
namespace {

// How often Finish re-cancels a request that outlived the deadline (real time).
constexpr auto kCancelRepeat = std::chrono::milliseconds(10);

const char* CodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kProtocol:
      return "protocol";
    default:
      return "io";
  }
}

}  // namespace

Sender::Sender(SenderOptions options, const OutputContext& ctx,
               std::unique_ptr<DeliveryTransport> transport, Classifier classify, LogFn log)
    : options_(std::move(options)),
      ctx_(ctx),
      transport_(std::move(transport)),
      classify_(std::move(classify)),
      log_(std::move(log)),
      queue_(options_.queue_bytes),
      backoff_(options_.backoff_initial, options_.backoff_max,
               static_cast<uint64_t>(ctx.clock->Now().count()) ^ 0x9e3779b97f4a7c15ULL) {}

Sender::~Sender() { Finish(ctx_.clock->Now()); }

Result<void> Sender::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || finished_) return {};
  try {
    thread_ = std::thread([this] { Loop(); });
  } catch (const std::system_error& e) {
    return MakeError(
        ErrorCode::kInternal,
        std::string("cannot start the sender thread for " + options_.endpoint + ": ") + e.what());
  }
  return {};
}

void Sender::Enqueue(Batch batch) {
  std::lock_guard<std::mutex> lock(mu_);
  PushLocked(std::move(batch));
  cv_.notify_all();
}

void Sender::PushLocked(Batch batch) {
  ++stats_.batches;
  const uint64_t dropped = queue_.Push(std::move(batch));
  if (dropped > 0) {
    stats_.dropped_batches += dropped;
    LogOnce("queue full", "export queue full (" + std::to_string(options_.queue_bytes) +
                              " bytes): dropping the oldest batches (counted in " +
                              options_.dropped_counter +
                              "); raise queue_bytes or fix the endpoint");
  }
}

void Sender::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  const Clock& clock = *ctx_.clock;
  for (;;) {
    if (abort_) break;
    const Nanos now = clock.Now();
    if (flushing_ &&
        (queue_.empty() || now >= flush_deadline_ || next_attempt_ > flush_deadline_)) {
      break;
    }
    if (queue_.empty()) {
      WaitUntil(cv_, lock, clock, Nanos::max(),
                [&] { return abort_ || flushing_ || !queue_.empty(); });
      continue;
    }
    if (now < next_attempt_) {
      const bool was_flushing = flushing_;
      WaitUntil(cv_, lock, clock, next_attempt_,
                [&] { return abort_ || flushing_ != was_flushing; });
      continue;
    }
    const Batch* batch = queue_.BeginSend();
    const std::shared_ptr<const std::string> body = batch->body;
    Nanos timeout = options_.timeout;
    if (flushing_) timeout = std::min(timeout, flush_deadline_ - now);
    lock.unlock();
    Result<DeliveryReply> result = transport_->Post({*body, ""}, timeout);
    lock.lock();
    OnResult(result, clock.Now());
  }
  done_ = true;
  cv_.notify_all();
}

void Sender::OnResult(const Result<DeliveryReply>& result, Nanos now) {
  auto retry = [&](std::optional<Nanos> retry_after, const std::string& kind,
                   const std::string& why) {
    queue_.EndSend(false);
    ++stats_.exports_retried;
    ++failures_in_a_row_;
    throttled_ = retry_after.has_value();
    next_attempt_ = now + RetryDelay(retry_after, backoff_);
    LogOnce(kind, "export to " + options_.endpoint + " failed, retrying with backoff: " + why);
  };
  if (!result) {
    retry(std::nullopt, std::string("transport ") + CodeName(result.error().code),
          result.error().message);
    return;
  }
  const DeliveryReply& reply = *result;
  const Outcome outcome = classify_(reply);
  if (!outcome.log_kind.empty()) LogOnce(outcome.log_kind, outcome.log_line);
  switch (outcome.kind) {
    case Outcome::kOk:
      queue_.EndSend(true);
      ++stats_.exports_ok;
      backoff_.Reset();
      throttled_ = false;
      next_attempt_ = now;
      if (failures_in_a_row_ > 0) {
        log_("export to " + options_.endpoint + " succeeded again after " +
             std::to_string(failures_in_a_row_) + " failed attempts");
        failures_in_a_row_ = 0;
      }
      return;
    case Outcome::kRetry:
      retry(ParseRetryAfter(reply.retry_after, UnixSecondsNow()),
            "status " + std::to_string(reply.status),
            "HTTP " + std::to_string(reply.status) +
                (reply.retry_after.empty() ? "" : " (Retry-After: " + reply.retry_after + ")"));
      return;
    case Outcome::kDrop:
      queue_.EndSend(true);
      ++stats_.exports_failed;
      return;
  }
}

void Sender::Finish(Nanos deadline, std::optional<Batch> last) {
  const Clock& clock = *ctx_.clock;
  std::unique_lock<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  if (last) PushLocked(std::move(*last));
  if (thread_.joinable()) {
    flushing_ = true;
    flush_deadline_ = deadline;
    // One immediate attempt at the backlog, unless the server asked us to wait.
    if (!throttled_) next_attempt_ = std::min(next_attempt_, clock.Now());
    cv_.notify_all();
    WaitUntil(cv_, lock, clock, deadline, [&] { return done_; });
    abort_ = true;
    cv_.notify_all();
    while (!done_) {
      lock.unlock();
      transport_->Cancel();  // a request still running past the deadline
      lock.lock();
      cv_.wait_for(lock, kCancelRepeat, [&] { return done_; });
    }
    lock.unlock();
    thread_.join();
    lock.lock();
  }
  stats_.unsent_at_stop += queue_.Clear();
}

SenderStats Sender::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SenderStats s = stats_;
  s.queue_bytes = queue_.bytes();
  s.queue_batches = queue_.size();
  return s;
}

void Sender::LogOnce(const std::string& kind, const std::string& line) {
  if (logged_.insert(kind).second) log_(line);
}

int64_t Sender::UnixSecondsNow() const {
  const int64_t unix_nanos =
      ctx_.wall_start_unix_nanos + (ctx_.clock->Now() - ctx_.collector_start).count();
  return unix_nanos / 1'000'000'000;
}

}  // namespace volley::output::delivery
