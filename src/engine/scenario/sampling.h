// Random choices of the scenario executor: which scenario a user runs next, and how long it
// thinks after a step (engine internal).
#pragma once

#include <cstddef>
#include <random>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/result.h"
#include "volley/config/scenario.h"

namespace volley::engine::scenario {

// Picks an index with probability weight[i] / sum(weights), by cumulative sums and a
// binary search (O(log n); plans have a handful of scenarios). Immutable after Create;
// Pick is const and thread-safe with a per-thread generator.
class WeightedPicker {
 public:
  // Errors (kInvalidArgument): no weights, or a weight that is not finite and > 0.
  static Result<WeightedPicker> Create(const std::vector<double>& weights);

  // An index in [0, size()).
  size_t Pick(std::mt19937_64& rng) const;
  size_t size() const { return cumulative_.size(); }

 private:
  std::vector<double> cumulative_;  // cumulative_[i] = sum of weights[0..i]
};

// A think time: `think.min` when min >= max, otherwise uniform in [min, max] (nanosecond
// granularity). Zero for no think time.
Nanos SampleThinkTime(const config::ThinkTime& think, std::mt19937_64& rng);

}  // namespace volley::engine::scenario
