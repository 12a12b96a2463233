// What an answer of the metrics service means for the request that got it (k6's error
// semantics, specs/k6-metrics-v2.md "Errors"). Parses bytes from the network: fuzzed
// (fuzz/cloud_response_fuzz.cc).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>

#include "volley/common/clock.h"

namespace volley::output::cloud {

// What an attempt's outcome means for its request.
struct Verdict {
  enum Kind {
    kOk,       // 2xx: sent
    kRetry,    // transport error, timeout, 408, 429, 5xx: try again later
    kReject,   // another 4xx (or 1xx/3xx): drop this batch, retrying cannot help
    kRefused,  // 403 with error code 4: the service takes no more metrics; stop pushing
  };
  Kind kind = kOk;
  std::optional<Nanos> retry_after;  // from a 429 or 503 answer's Retry-After
  int status = 0;                    // 0 for a transport error
  // "HTTP 503", "HTTP 400: <message of the JSON error>", "connection: Connection refused".
  std::string what;
};

// The verdict for an HTTP answer. `body` may hold k6's JSON error
// {"error":{"code":N,"message":"..."}}; anything else is ignored. Retry-After goes through
// the delivery path's parser (seconds or an HTTP-date, relative to `now_unix_seconds`).
Verdict ClassifyResponse(int status, const std::string& body, const std::string& retry_after_header,
                         int64_t now_unix_seconds = static_cast<int64_t>(std::time(nullptr)));

}  // namespace volley::output::cloud
