#include <algorithm>

#include "volley/output/delivery.h"

namespace volley::output::delivery {

BackoffPolicy::BackoffPolicy(Nanos base, Nanos max, double jitter)
    : base_(std::max(base, Nanos(1))),
      max_(std::max(max, base_)),
      jitter_(std::clamp(jitter, 0.0, 1.0)) {}

Nanos BackoffPolicy::Delay(int failures, double u) const {
  if (failures < 1) failures = 1;
  // Doubling past 62 overflows; the cap is reached long before.
  Nanos d = max_;
  if (failures <= 62) {
    const int64_t factor = int64_t{1} << (failures - 1);
    if (base_.count() <= max_.count() / factor) d = base_ * factor;
  }
  u = std::clamp(u, 0.0, 1.0);
  const double factor = 1.0 + jitter_ * (2.0 * u - 1.0);
  const auto jittered = Nanos(static_cast<int64_t>(static_cast<double>(d.count()) * factor));
  return std::min(jittered, max_);
}

Backoff::Backoff(Nanos initial, Nanos max, uint64_t seed, double jitter)
    : policy_(initial, max, jitter), rng_(seed) {}

Nanos Backoff::Next() {
  ++attempt_;
  return policy_.Delay(attempt_, Uniform());
}

Nanos RetryDelay(std::optional<Nanos> retry_after, Backoff& backoff, Nanos cap) {
  const Nanos backed_off = backoff.Next();  // counted either way
  if (retry_after) return std::min(*retry_after, cap);
  return backed_off;
}

}  // namespace volley::output::delivery
