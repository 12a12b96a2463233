// One HTTP sender of the cloud output: builds the request of the spec's headers, posts it
// with http::HttpClient (libcurl) and says what the answer means for the batch.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "cloud_config.h"
#include "outbox.h"
#include "response.h"
#include "volley/common/clock.h"
#include "volley/common/http_client.h"

namespace volley::output::cloud {

inline constexpr const char* kUserAgent = "volley/0.1.0";

// The request headers (besides Content-Type): Content-Encoding and
// K6-Metrics-Protocol-Version for v2, Authorization when there is a token,
// K6-Idempotency-Key and User-Agent.
std::multimap<std::string, std::string> PushHeaders(const CloudConfig& config,
                                                    const std::string& idempotency_key);

// A new idempotency key: 16 lowercase hex characters from `rng_value`.
std::string IdempotencyKey(uint64_t rng_value);

// Owns one keep-alive connection, not reused for a request when it has been idle for more
// than kMaxIdle (real time): servers close idle connections, and a request on a
// connection the server has just closed fails for nothing. Push() is called by one sender
// thread at a time; Interrupt() may be called from any thread to end a Push() in progress
// early (it then returns a kRetry transport error, as does every later Push()).
class HttpPusher {
 public:
  explicit HttpPusher(const CloudConfig& config);
  ~HttpPusher();
  HttpPusher(const HttpPusher&) = delete;
  HttpPusher& operator=(const HttpPusher&) = delete;

  static constexpr Nanos kMaxIdle = std::chrono::milliseconds(900);

  // One attempt with `timeout` for the whole exchange (connecting included).
  Verdict Push(const PushRequest& request, Nanos timeout);
  void Interrupt();

 private:
  const CloudConfig& config_;  // owned by the output, outlives this
  const std::string url_;
  http::HttpClient client_;
  Nanos last_used_{0};  // MonotonicNow() at the end of the last Push()
};

}  // namespace volley::output::cloud
