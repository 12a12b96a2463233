// The requests of the cloud output waiting to be sent: retry scheduling, the backlog bound
// and exact accounting of what was sent and what had to be dropped.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>

#include "volley/common/clock.h"
#include "volley/output/delivery.h"

namespace volley::output::cloud {

// The delivery path's retry policy.
using delivery::BackoffPolicy;

// One encoded request body and what it carries.
struct PushRequest {
  uint64_t seq = 0;             // set by Outbox::Add: order of creation
  std::string idempotency_key;  // the same on every attempt
  std::string body;             // encoded (and compressed) body
  uint64_t samples = 0;         // (series, bucket) values in it
  int failures = 0;             // failed attempts so far
  bool backlogged = false;      // failed 1 + retries times; retried with longer delays
  Nanos not_before{0};          // not sent before this time (the output's clock)
};

enum class DropReason {
  kBacklogFull,  // the bound was reached: the oldest waiting request is dropped
  kRejected,     // a 4xx other than 429 (and other than 403 code 4): retrying cannot help
  kRefused,      // the service refused further metrics (403 code 4): everything left
  kUnsent,       // still unsent when Stop()'s deadline came
};
inline constexpr size_t kNumDropReasons = 4;
const char* DropReasonName(DropReason why);

struct OutboxStats {
  uint64_t batches_sent = 0;  // acknowledged with a 2xx
  uint64_t samples_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t attempts = 0;    // requests started, retries included
  uint64_t retries = 0;     // attempts of a request that had failed before
  uint64_t backlogged = 0;  // requests that failed every quick retry
  std::array<uint64_t, kNumDropReasons> dropped_batches{};
  std::array<uint64_t, kNumDropReasons> dropped_samples{};

  uint64_t DroppedBatches() const;
  uint64_t DroppedSamples() const;
};

// Not thread-safe: the output guards it with its own mutex. No threads, no I/O; every
// time is passed in, so tests drive it with any clock.
//
// Scheduling: Take() hands out the oldest request that is ready (its not_before has
// passed) unless a gate is closed. A failed attempt (transport error, 5xx, 429) puts the
// request back in its place with not_before = now + backoff(its failures), or
// now + Retry-After when the server said so; it also closes the gate for every request:
// until now + backoff(consecutive failures of the endpoint), and at least until the
// Retry-After time. A success reopens the backoff gate (not the Retry-After one). After
// 1 + `retries` failed attempts a request is "backlogged": it stays, with delays growing up
// to the policy's max, and is retried for as long as the output runs.
//
// Bound: the bodies of the requests waiting (not those in flight) take at most
// `max_bytes`; beyond it the oldest waiting requests are dropped (kBacklogFull), except
// that the newest one is always kept. Memory is thus bounded by max_bytes plus one
// request, plus the requests in flight (at most the push concurrency).
class Outbox {
 public:
  Outbox(uint64_t max_bytes, int retries, BackoffPolicy backoff, uint64_t seed = 1);

  // Queues a new request (its seq and not_before are set here).
  void Add(PushRequest request);
  // The oldest ready request at `now`, moved out (in flight until Succeeded, Failed or
  // Rejected is called with it); nullopt when none is ready.
  std::optional<PushRequest> Take(Nanos now);
  // The earliest time Take() could return something; Nanos::max() when nothing waits.
  Nanos NextReady() const;

  void Succeeded(const PushRequest& request);
  // `retry_after`: the server's Retry-After, if any.
  void Failed(PushRequest request, Nanos now, std::optional<Nanos> retry_after);
  // Drops an in-flight request for good, counted under `why`.
  void Rejected(const PushRequest& request, DropReason why);
  // Drops every waiting request, counted under `why`.
  void DropWaiting(DropReason why);

  bool empty() const { return waiting_.empty(); }
  size_t waiting() const { return waiting_.size(); }
  uint64_t waiting_bytes() const { return waiting_bytes_; }
  size_t in_flight() const { return in_flight_; }
  const OutboxStats& stats() const { return stats_; }

 private:
  void Insert(PushRequest request);
  void Drop(const PushRequest& request, DropReason why);
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }

  const uint64_t max_bytes_;
  const int retries_;
  const BackoffPolicy backoff_;
  std::mt19937_64 rng_;
  std::map<uint64_t, PushRequest> waiting_;  // by seq: oldest first
  uint64_t waiting_bytes_ = 0;
  size_t in_flight_ = 0;
  uint64_t next_seq_ = 1;
  int consecutive_failures_ = 0;
  Nanos backoff_gate_{0};      // no Take() before this (after failures)
  Nanos retry_after_gate_{0};  // no Take() before this (the server's Retry-After)
  OutboxStats stats_;
};

// While Stop() drains the outbox: true when the senders are done at `now`, because the
// deadline has come, or because nothing is in flight and nothing waiting can become ready
// before the deadline (what is left is then dropped as kUnsent). Requests in flight may
// still come back for a retry, so they are waited for.
bool DrainFinished(const Outbox& outbox, Nanos now, Nanos deadline);

}  // namespace volley::output::cloud
