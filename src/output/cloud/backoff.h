// Retry delays of the cloud output: exponential backoff with jitter, and Retry-After.
#pragma once

#include <optional>
#include <string_view>

#include "volley/common/clock.h"

namespace volley::output::cloud {

// A pure value: thread-safe to share once built.
//
// The delay before retry number k (k >= 1, counting failed attempts of one request, or
// consecutive failures of the endpoint) is min(base * 2^(k-1), max), plus a jitter of up to
// `jitter` times that (uniform, from the caller's random draw u in [0, 1)), so concurrent
// senders and nodes do not retry in lockstep. base 500 ms, max 30 s: 0.5, 1, 2, 4, ... 30 s.
class BackoffPolicy {
 public:
  BackoffPolicy(Nanos base, Nanos max, double jitter = 0.2);

  Nanos Delay(int failures, double u) const;

  // A Retry-After value honoured as given, but never above this (a confused server
  // should not park the output for hours).
  static constexpr Nanos kMaxRetryAfter = std::chrono::minutes(5);

  Nanos base() const { return base_; }
  Nanos max() const { return max_; }

 private:
  Nanos base_;
  Nanos max_;
  double jitter_;
};

// The delay a `Retry-After` header asks for: delay-seconds ("120", "1.5" is taken as 1.5 s
// although the RFC wants an integer) capped at kMaxRetryAfter; nullopt when absent or
// unparseable (an HTTP date is not supported: the backoff applies instead).
std::optional<Nanos> ParseRetryAfter(std::string_view value);

}  // namespace volley::output::cloud
