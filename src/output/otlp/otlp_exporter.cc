#include "otlp_exporter.h"

#include <system_error>
#include <utility>

#include "volley/output/delivery.h"
#include "volley/wire/otlp_metrics.h"

namespace volley::output {
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

OtlpOutput::Exporter::Exporter(const OtlpSettings& settings, const OutputContext& ctx,
                               std::unique_ptr<OtlpTransport> transport, LogFn log)
    : settings_(settings),
      ctx_(ctx),
      transport_(std::move(transport)),
      log_(std::move(log)),
      queue_(settings.queue_bytes),
      backoff_(settings.backoff_initial, settings.backoff_max,
               static_cast<uint64_t>(ctx.clock->Now().count()) ^ 0x9e3779b97f4a7c15ULL) {}

OtlpOutput::Exporter::~Exporter() { Finish(ctx_.clock->Now()); }

Result<void> OtlpOutput::Exporter::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || finished_) return {};
  try {
    thread_ = std::thread([this] { Loop(); });
  } catch (const std::system_error& e) {
    return MakeError(ErrorCode::kInternal,
                     std::string("otlp: cannot start the exporter thread: ") + e.what());
  }
  return {};
}

void OtlpOutput::Exporter::Enqueue(otlp::Batch batch) {
  std::lock_guard<std::mutex> lock(mu_);
  PushLocked(std::move(batch));
  cv_.notify_all();
}

void OtlpOutput::Exporter::PushLocked(otlp::Batch batch) {
  ++stats_.batches;
  const uint64_t dropped = queue_.Push(std::move(batch));
  if (dropped > 0) {
    stats_.dropped_batches += dropped;
    LogOnce("queue full", "export queue full (" + std::to_string(settings_.queue_bytes) +
                              " bytes): dropping the oldest batches (counted in "
                              "otlp_dropped_batches_total); raise queue_bytes or fix the endpoint");
  }
}

void OtlpOutput::Exporter::Loop() {
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
      delivery::WaitUntil(cv_, lock, clock, Nanos::max(),
                      [&] { return abort_ || flushing_ || !queue_.empty(); });
      continue;
    }
    if (now < next_attempt_) {
      const bool was_flushing = flushing_;
      delivery::WaitUntil(cv_, lock, clock, next_attempt_,
                      [&] { return abort_ || flushing_ != was_flushing; });
      continue;
    }
    const otlp::Batch* batch = queue_.BeginSend();
    const std::shared_ptr<const std::string> body = batch->body;
    Nanos timeout = settings_.timeout;
    if (flushing_) timeout = std::min(timeout, flush_deadline_ - now);
    lock.unlock();
    Result<OtlpHttpReply> result = transport_->Post({*body, ""}, timeout);
    lock.lock();
    OnResult(result, clock.Now());
  }
  done_ = true;
  cv_.notify_all();
}

void OtlpOutput::Exporter::OnResult(const Result<OtlpHttpReply>& result, Nanos now) {
  auto retry = [&](std::optional<Nanos> retry_after, const std::string& kind,
                   const std::string& why) {
    queue_.EndSend(false);
    ++stats_.exports_retried;
    ++failures_in_a_row_;
    throttled_ = retry_after.has_value();
    next_attempt_ = now + delivery::RetryDelay(retry_after, backoff_);
    LogOnce(kind, "export to " + settings_.endpoint + " failed, retrying with backoff: " + why);
  };
  if (!result) {
    retry(std::nullopt, std::string("transport ") + CodeName(result.error().code),
          result.error().message);
    return;
  }
  const OtlpHttpReply& reply = *result;
  switch (otlp::ClassifyStatus(reply.status)) {
    case otlp::ReplyClass::kOk: {
      queue_.EndSend(true);
      ++stats_.exports_ok;
      backoff_.Reset();
      throttled_ = false;
      next_attempt_ = now;
      if (failures_in_a_row_ > 0) {
        log_("export to " + settings_.endpoint + " succeeded again after " +
             std::to_string(failures_in_a_row_) + " failed attempts");
        failures_in_a_row_ = 0;
      }
      auto decoded = wire::DecodeOtlpExportResponse(reply.body);
      if (!decoded) {
        LogOnce("bad response", "endpoint answered " + std::to_string(reply.status) + " with " +
                                    decoded.error().message + "; counted as success");
      } else if (decoded->partial) {
        ++stats_.partial_successes;
        if (decoded->rejected_data_points > 0) {
          stats_.rejected_points += static_cast<uint64_t>(decoded->rejected_data_points);
        }
        LogOnce("partial", "partial success: " + std::to_string(decoded->rejected_data_points) +
                               " data points rejected: " + decoded->error_message +
                               " (not retried; logged once)");
      }
      return;
    }
    case otlp::ReplyClass::kRetryable:
      retry(delivery::ParseRetryAfter(reply.retry_after, UnixSecondsNow()),
            "status " + std::to_string(reply.status),
            "HTTP " + std::to_string(reply.status) +
                (reply.retry_after.empty() ? "" : " (Retry-After: " + reply.retry_after + ")"));
      return;
    case otlp::ReplyClass::kFatal: {
      queue_.EndSend(true);
      ++stats_.exports_failed;
      const std::string message = wire::DecodeOtlpErrorStatus(reply.body);
      LogOnce("status " + std::to_string(reply.status),
              "endpoint " + settings_.endpoint + " answered HTTP " + std::to_string(reply.status) +
                  (message.empty() ? "" : ": " + message) +
                  "; the batch is dropped (not retryable; logged once per status)");
      return;
    }
  }
}

void OtlpOutput::Exporter::Finish(Nanos deadline, std::optional<otlp::Batch> last) {
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
    delivery::WaitUntil(cv_, lock, clock, deadline, [&] { return done_; });
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

void OtlpOutput::Exporter::FillStats(OtlpStats* s) const {
  std::lock_guard<std::mutex> lock(mu_);
  *s = stats_;
  s->queue_bytes = queue_.bytes();
  s->queue_batches = queue_.size();
}

void OtlpOutput::Exporter::LogOnce(const std::string& kind, const std::string& line) {
  if (logged_.insert(kind).second) log_(line);
}

int64_t OtlpOutput::Exporter::UnixSecondsNow() const {
  const int64_t unix_nanos =
      ctx_.wall_start_unix_nanos + (ctx_.clock->Now() - ctx_.collector_start).count();
  return unix_nanos / 1'000'000'000;
}

}  // namespace volley::output
