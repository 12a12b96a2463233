// What the OTLP/HTTP spec says about retrying (../shared/specs/otlp-metrics.md §2): which
// statuses are retryable. Backoff, Retry-After and waiting are the shared delivery path's
// (volley/output/delivery.h).
#pragma once

#include "volley/output/delivery.h"

namespace volley::output::otlp {

enum class ReplyClass {
  kOk,         // 2xx: the batch is done (a partial success is logged, never retried)
  kRetryable,  // 429, 502, 503, 504: keep the batch, back off, send it again
  kFatal,      // every other status: drop the batch (400 bad data, 401, 404, 413, 500...)
};

ReplyClass ClassifyStatus(int status);

// The delivery path's, under the names the exporter has always used.
using delivery::Backoff;
using delivery::ParseRetryAfter;
using delivery::RetryDelay;

}  // namespace volley::output::otlp
