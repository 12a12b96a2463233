// The delivery path shared by every push output (cloud, OTLP, remote write): one backoff
// policy, one Retry-After parser, one way to wait on the injected clock, and one transport
// interface. Each output keeps only its encoding and its protocol's status classification.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "volley/common/clock.h"
#include "volley/common/http_client.h"
#include "volley/common/result.h"

namespace volley::output::delivery {

// A Retry-After (or a backoff) above this is taken as this: a confused server should not
// park an output for hours.
inline constexpr Nanos kMaxRetryAfter = std::chrono::minutes(5);

// The delay a `Retry-After` header value asks for (RFC 9110 §10.2.3), in either form:
// delay-seconds ("120"; "1.5" is taken as 1.5 s although the RFC wants an integer) or an
// IMF-fixdate HTTP-date ("Sun, 06 Nov 1994 08:49:37 GMT") relative to `now_unix_seconds`
// (wall clock; a date in the past gives 0). Capped at kMaxRetryAfter. Nullopt when absent
// or neither form (the caller's backoff then applies). Pure; thread-safe.
std::optional<Nanos> ParseRetryAfter(std::string_view value, int64_t now_unix_seconds);

// The one retry policy. A pure value: thread-safe to share once built.
//
// The delay before retry number k (k >= 1: failed attempts of one request, or consecutive
// failures of an endpoint) is d = min(base * 2^(k-1), max), times a jitter factor uniform
// in [1 - jitter, 1 + jitter) from the caller's draw u in [0, 1), and never above max, so
// concurrent senders and nodes do not retry in lockstep. base 500 ms, max 30 s, jitter
// 0.2: 0.5, 1, 2, 4, ... 30 s, each ±20 %.
class BackoffPolicy {
 public:
  static constexpr double kDefaultJitter = 0.2;

  // A max below base is raised to base; base below 1 ns is raised to 1 ns.
  BackoffPolicy(Nanos base, Nanos max, double jitter = kDefaultJitter);

  Nanos Delay(int failures, double u) const;

  Nanos base() const { return base_; }
  Nanos max() const { return max_; }

 private:
  Nanos base_;
  Nanos max_;
  double jitter_;
};

// BackoffPolicy with its own count of consecutive failures and its own random draws, for
// a sender that backs off as a whole. Not thread-safe (its owner guards it).
class Backoff {
 public:
  Backoff(Nanos initial, Nanos max, uint64_t seed, double jitter = BackoffPolicy::kDefaultJitter);

  // The wait before the next attempt; counts a failed attempt.
  Nanos Next();
  // After a success: the next failure starts from the initial delay again.
  void Reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }
  // A uniform draw in [0, 1) from this backoff's generator (for per-request delays).
  double Uniform() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

// How long to wait after a retryable failure: the server's Retry-After when it sent a
// valid one (capped at `cap`), else the backoff's next delay. Either way the failure is
// counted, so a later one backs off further.
Nanos RetryDelay(std::optional<Nanos> retry_after, Backoff& backoff, Nanos cap = kMaxRetryAfter);

// How often a waiter re-reads a clock that is not the SteadyClock (a FakeClock moves
// without notifying anyone), in real time.
inline constexpr Nanos kForeignClockPoll = std::chrono::milliseconds(1);

// Blocks on `cv` (with `lock` held on entry and exit) until pred() holds (→ true) or
// `clock` reaches `until` (→ pred()). Notify `cv` after changing what pred() reads. With
// the SteadyClock it sleeps until the time; with another clock it re-reads it every
// kForeignClockPoll, so a test that advances a FakeClock wakes it within a millisecond.
template <class Pred>
bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, const Clock& clock,
               Nanos until, Pred pred) {
  const bool steady = dynamic_cast<const SteadyClock*>(&clock) != nullptr;
  while (!pred()) {
    const Nanos now = clock.Now();
    if (now >= until) return pred();
    Nanos slice = std::min<Nanos>(until - now, std::chrono::hours(1));
    if (!steady) slice = std::min(slice, kForeignClockPoll);
    cv.wait_for(lock, slice);
  }
  return true;
}

// One request of a push output, ready to POST.
struct DeliveryRequest {
  std::string_view body;        // encoded (and compressed) body; valid during Post
  std::string idempotency_key;  // the same on every attempt; "" when the protocol has none
};

// An answer of the endpoint, whatever its status (classifying it is the protocol's job).
struct DeliveryReply {
  int status = 0;
  std::string body;         // at most kMaxResponseBytes
  std::string retry_after;  // the Retry-After header, "" if absent
};

// How a push output reaches its endpoint: an interface, so tests script answers and hangs
// without a network. One implementation per protocol on http::HttpClient (libcurl).
class DeliveryTransport {
 public:
  // Response bodies longer than this are cut off (the request then fails as kProtocol).
  static constexpr size_t kMaxResponseBytes = 4u << 20;

  virtual ~DeliveryTransport() = default;

  // POSTs `request` and returns the answer, whatever its status. Gives up after `timeout`
  // (for connecting and for each read or write). Errors (all retryable): kIo (connect
  // refused, reset, cancelled), kTimeout, kProtocol (an answer that is not HTTP, or too
  // long). Called by one sender thread at a time.
  virtual Result<DeliveryReply> Post(const DeliveryRequest& request, Nanos timeout) = 0;

  // Thread-safe, callable while Post runs on another thread: makes the running Post (if
  // any) fail soon with kIo, and every later Post fail at once. Used at shutdown when the
  // deadline passes. Never blocks for longer than a connect attempt.
  virtual void Cancel() = 0;
};

// The HTTP side of a push protocol, for MakeHttpTransport.
struct HttpTransportOptions {
  std::string url;                 // http(s)://host[:port]/path, as given to curl
  http::Headers headers;           // on every request (Content-Type, encoding, auth, agent)
  std::string idempotency_header;  // sends DeliveryRequest::idempotency_key under it; "" none
  Nanos max_connect_timeout = std::chrono::seconds(3);  // connecting, within each timeout
  size_t max_response_bytes = DeliveryTransport::kMaxResponseBytes;
  bool truncate_response = false;  // keep the first max_response_bytes instead of failing
  // A kept connection idle for longer than this (real time) is not reused: servers close
  // idle connections, and a request on one the server has just closed fails for nothing.
  Nanos max_idle = Nanos::max();
};

// POSTs on http::HttpClient (libcurl): one keep-alive connection, proxy variables and the
// system CA store as curl honours them. Transport errors come back as kIo, kTimeout or
// kProtocol. The URL is checked by curl at the first Post (kIo when it is unusable).
std::unique_ptr<DeliveryTransport> MakeHttpTransport(HttpTransportOptions options);

}  // namespace volley::output::delivery
