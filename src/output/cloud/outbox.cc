#include "outbox.h"

#include <algorithm>
#include <utility>

namespace volley::output::cloud {

const char* DropReasonName(DropReason why) {
  switch (why) {
    case DropReason::kBacklogFull:
      return "backlog full";
    case DropReason::kRejected:
      return "rejected (4xx)";
    case DropReason::kRefused:
      return "refused by the service";
    case DropReason::kUnsent:
      return "unsent at the stop deadline";
  }
  return "?";
}

uint64_t OutboxStats::DroppedBatches() const {
  uint64_t n = 0;
  for (uint64_t v : dropped_batches) n += v;
  return n;
}

uint64_t OutboxStats::DroppedSamples() const {
  uint64_t n = 0;
  for (uint64_t v : dropped_samples) n += v;
  return n;
}

Outbox::Outbox(uint64_t max_bytes, int retries, BackoffPolicy backoff, uint64_t seed)
    : max_bytes_(max_bytes), retries_(retries), backoff_(backoff), rng_(seed) {}

void Outbox::Add(PushRequest request) {
  request.seq = next_seq_++;
  request.not_before = Nanos(0);
  Insert(std::move(request));
}

void Outbox::Insert(PushRequest request) {
  const uint64_t seq = request.seq;
  waiting_bytes_ += request.body.size();
  waiting_.emplace(seq, std::move(request));
  // Trim the oldest while over the bound, always keeping the newest.
  while (waiting_bytes_ > max_bytes_ && waiting_.size() > 1) {
    auto oldest = waiting_.begin();
    waiting_bytes_ -= oldest->second.body.size();
    Drop(oldest->second, DropReason::kBacklogFull);
    waiting_.erase(oldest);
  }
}

std::optional<PushRequest> Outbox::Take(Nanos now) {
  if (now < backoff_gate_ || now < retry_after_gate_) return std::nullopt;
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    if (it->second.not_before > now) continue;
    PushRequest r = std::move(it->second);
    waiting_bytes_ -= r.body.size();
    waiting_.erase(it);
    ++in_flight_;
    ++stats_.attempts;
    if (r.failures > 0) ++stats_.retries;
    return r;
  }
  return std::nullopt;
}

Nanos Outbox::NextReady() const {
  if (waiting_.empty()) return Nanos::max();
  Nanos earliest = Nanos::max();
  for (const auto& [seq, r] : waiting_) earliest = std::min(earliest, r.not_before);
  return std::max({earliest, backoff_gate_, retry_after_gate_});
}

void Outbox::Succeeded(const PushRequest& request) {
  --in_flight_;
  ++stats_.batches_sent;
  stats_.samples_sent += request.samples;
  stats_.bytes_sent += request.body.size();
  consecutive_failures_ = 0;
  backoff_gate_ = Nanos(0);
}

void Outbox::Failed(PushRequest request, Nanos now, std::optional<Nanos> retry_after) {
  --in_flight_;
  ++request.failures;
  ++consecutive_failures_;
  if (!request.backlogged && request.failures > retries_) {
    request.backlogged = true;
    ++stats_.backlogged;
  }
  request.not_before =
      now + (retry_after ? *retry_after : backoff_.Delay(request.failures, Uniform()));
  backoff_gate_ = std::max(backoff_gate_, now + backoff_.Delay(consecutive_failures_, Uniform()));
  if (retry_after) retry_after_gate_ = std::max(retry_after_gate_, now + *retry_after);
  Insert(std::move(request));
}

void Outbox::Rejected(const PushRequest& request, DropReason why) {
  --in_flight_;
  Drop(request, why);
}

void Outbox::DropWaiting(DropReason why) {
  for (const auto& [seq, r] : waiting_) Drop(r, why);
  waiting_.clear();
  waiting_bytes_ = 0;
}

void Outbox::Drop(const PushRequest& request, DropReason why) {
  ++stats_.dropped_batches[static_cast<size_t>(why)];
  stats_.dropped_samples[static_cast<size_t>(why)] += request.samples;
}

bool DrainFinished(const Outbox& outbox, Nanos now, Nanos deadline) {
  if (now >= deadline) return true;
  return outbox.in_flight() == 0 && (outbox.empty() || outbox.NextReady() >= deadline);
}

}  // namespace volley::output::cloud
