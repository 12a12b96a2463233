#include "retry_policy.h"

namespace volley::output::otlp {

ReplyClass ClassifyStatus(int status) {
  if (status >= 200 && status < 300) return ReplyClass::kOk;
  if (status == 429 || status == 502 || status == 503 || status == 504) {
    return ReplyClass::kRetryable;
  }
  return ReplyClass::kFatal;
}

}  // namespace volley::output::otlp
