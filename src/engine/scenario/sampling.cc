#include "scenario/sampling.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace volley::engine::scenario {

Result<WeightedPicker> WeightedPicker::Create(const std::vector<double>& weights) {
  if (weights.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "weights: at least one scenario is needed");
  }
  WeightedPicker picker;
  double sum = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (!std::isfinite(weights[i]) || weights[i] <= 0) {
      return MakeError(ErrorCode::kInvalidArgument, "weight " + std::to_string(i) +
                                                        ": must be a finite number > 0, got " +
                                                        std::to_string(weights[i]));
    }
    sum += weights[i];
    if (!std::isfinite(sum)) {
      return MakeError(ErrorCode::kInvalidArgument, "weights: the sum is too large");
    }
    picker.cumulative_.push_back(sum);
  }
  return picker;
}

size_t WeightedPicker::Pick(std::mt19937_64& rng) const {
  // A uniform double in [0, total) from the top 53 bits.
  double u = static_cast<double>(rng() >> 11) * 0x1.0p-53 * cumulative_.back();
  auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  size_t i = static_cast<size_t>(it - cumulative_.begin());
  return std::min(i, cumulative_.size() - 1);
}

Nanos SampleThinkTime(const config::ThinkTime& think, std::mt19937_64& rng) {
  if (think.min >= think.max) return std::max(think.min, Nanos(0));
  std::uniform_int_distribution<int64_t> dist(think.min.count(), think.max.count());
  return Nanos(dist(rng));
}

}  // namespace volley::engine::scenario
