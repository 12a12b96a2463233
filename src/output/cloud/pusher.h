// The cloud output's protocol rules on the delivery path: the spec's request headers and
// what an answer means for the batch.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "cloud_config.h"
#include "outbox.h"
#include "response.h"
#include "volley/common/clock.h"
#include "volley/common/result.h"
#include "volley/output/delivery.h"

namespace volley::output::cloud {

inline constexpr const char* kUserAgent = "volley/0.1.0";

// The request headers (besides Content-Type): Content-Encoding and
// K6-Metrics-Protocol-Version for v2, Authorization when there is a token,
// K6-Idempotency-Key and User-Agent.
std::multimap<std::string, std::string> PushHeaders(const CloudConfig& config,
                                                    const std::string& idempotency_key);

// A new idempotency key: 16 lowercase hex characters from `rng_value`.
std::string IdempotencyKey(uint64_t rng_value);

// The cloud output's transport on the delivery path: POSTs to the push path with
// PushHeaders (the request's idempotency key as K6-Idempotency-Key) and the body's
// Content-Type. The whole exchange, connecting included, within each Post's timeout; only
// the first 16 KiB of an answer kept (it matters for its JSON error only, and a hostile
// server cannot make the output hold a large body); a connection idle for more than
// kMaxIdle (real time) is not reused. One per sender thread.
inline constexpr Nanos kMaxIdle = std::chrono::milliseconds(900);
std::unique_ptr<delivery::DeliveryTransport> MakeCloudTransport(const CloudConfig& config);

// What one attempt's outcome means for its request: ClassifyResponse for an answer, kRetry
// for a transport error.
Verdict VerdictOf(const Result<delivery::DeliveryReply>& result, int64_t now_unix_seconds);

}  // namespace volley::output::cloud
