#include "backoff.h"

#include <algorithm>
#include <cmath>

#include "volley/common/parse.h"
#include "volley/common/strings.h"

namespace volley::output::cloud {

BackoffPolicy::BackoffPolicy(Nanos base, Nanos max, double jitter)
    : base_(std::max(base, Nanos(1))), max_(std::max(max, base_)), jitter_(jitter) {}

Nanos BackoffPolicy::Delay(int failures, double u) const {
  if (failures < 1) failures = 1;
  // Doubling past 62 overflows; the cap is reached long before.
  Nanos d = max_;
  if (failures <= 62) {
    const int64_t factor = int64_t{1} << (failures - 1);
    if (base_.count() <= max_.count() / factor) d = base_ * factor;
  }
  u = std::clamp(u, 0.0, 1.0);
  return d + Nanos(static_cast<int64_t>(static_cast<double>(d.count()) * jitter_ * u));
}

std::optional<Nanos> ParseRetryAfter(std::string_view value) {
  std::string_view s = Trim(value);
  if (s.empty()) return std::nullopt;
  const Result<double> parsed = ParseNumber(s);
  if (!parsed || *parsed < 0) return std::nullopt;
  const double secs = *parsed;
  const double cap = std::chrono::duration<double>(BackoffPolicy::kMaxRetryAfter).count();
  return Nanos(static_cast<int64_t>(std::min(secs, cap) * 1e9));
}

}  // namespace volley::output::cloud
