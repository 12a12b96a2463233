#include "retry_policy.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <string>

#include "volley/common/strings.h"

namespace volley::output::otlp {

ReplyClass ClassifyStatus(int status) {
  if (status >= 200 && status < 300) return ReplyClass::kOk;
  if (status == 429 || status == 502 || status == 503 || status == 504) {
    return ReplyClass::kRetryable;
  }
  return ReplyClass::kFatal;
}

std::optional<Nanos> ParseRetryAfter(std::string_view value, int64_t now_unix_seconds) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (value.size() > 9) return std::chrono::seconds(999'999'999);  // absurd, capped later
    return std::chrono::seconds(std::stoll(std::string(value)));
  }
  // IMF-fixdate only (RFC 9110 §5.6.7); the obsolete forms are not worth the code.
  const std::string text(value);
  tm t{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &t);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const int64_t when = timegm(&t);
  if (when <= now_unix_seconds) return Nanos(0);
  return std::chrono::seconds(when - now_unix_seconds);
}

Backoff::Backoff(Nanos initial, Nanos max, uint64_t seed)
    : initial_(std::max(initial, Nanos(1))), max_(std::max(max, initial_)), rng_(seed) {}

Nanos Backoff::Next() {
  // initial * 2^attempt without overflow: stop doubling once past max.
  Nanos base = initial_;
  for (int i = 0; i < attempt_ && base < max_; ++i) base *= 2;
  base = std::min(base, max_);
  ++attempt_;
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  const auto d = Nanos(static_cast<int64_t>(static_cast<double>(base.count()) * jitter(rng_)));
  return std::min(d, max_);
}

Nanos RetryDelay(std::optional<Nanos> retry_after, Backoff& backoff, Nanos cap) {
  if (retry_after) {
    backoff.Next();  // still counts as an attempt, so a later failure backs off further
    return std::min(*retry_after, cap);
  }
  return backoff.Next();
}

}  // namespace volley::output::otlp
