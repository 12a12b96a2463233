// What the OTLP/HTTP spec says about retrying (../shared/specs/otlp-metrics.md §2), as
// pure functions and a small value type, so the exporter's decisions are tested without
// a network or a clock.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

#include "volley/common/clock.h"

namespace volley::output::otlp {

enum class ReplyClass {
  kOk,         // 2xx: the batch is done (a partial success is logged, never retried)
  kRetryable,  // 429, 502, 503, 504: keep the batch, back off, send it again
  kFatal,      // every other status: drop the batch (400 bad data, 401, 404, 413, 500...)
};

ReplyClass ClassifyStatus(int status);

// A Retry-After header value: delay-seconds ("120") or an IMF-fixdate HTTP-date ("Sun, 06
// Nov 1994 08:49:37 GMT"), relative to `now_unix_seconds` (wall clock). A date in the past
// gives 0. Nullopt when the value is neither (the caller then uses its own backoff).
std::optional<Nanos> ParseRetryAfter(std::string_view value, int64_t now_unix_seconds);

// Exponential backoff with jitter: attempt k (0-based) waits initial * 2^k, capped at
// `max`, times a random factor in [0.8, 1.2) (±20 %, as opentelemetry-js), and never more
// than max. Not thread-safe (the exporter thread owns it).
class Backoff {
 public:
  Backoff(Nanos initial, Nanos max, uint64_t seed);

  // The wait before the next attempt; counts an attempt.
  Nanos Next();
  // After a success: the next failure starts from `initial` again.
  void Reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }

 private:
  Nanos initial_;
  Nanos max_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

// How long to wait after a retryable failure: Retry-After when the server sent a valid
// one (capped at `cap`, so a server cannot park the exporter for a day), else the
// backoff's next delay.
Nanos RetryDelay(std::optional<Nanos> retry_after, Backoff& backoff, Nanos cap);

}  // namespace volley::output::otlp
