// Arrival schedules of the open load models. Every model is a piecewise-linear arrival
// rate r(t); arrival k (k = 0, 1, ...) is due at the time t where the cumulative count
// N(t) = integral of r from 0 to t reaches k. This gives exact counts (N(T) arrivals by
// time T, never rounded per tick) and smooth spacing within each segment.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/result.h"
#include "volley/config/test_plan.h"

namespace volley::engine {

// Immutable after construction; safe to share between threads.
class RateSchedule {
 public:
  struct Segment {
    Nanos length{0};
    double from = 0;  // rate (per second) at the segment's start
    double to = 0;    // rate at its end
  };

  // `segments` run one after the other from t = 0. With `repeat`, the list is a cycle that
  // repeats forever; otherwise the rate is 0 after the last segment.
  RateSchedule(std::vector<Segment> segments, bool repeat);

  // Builds the schedule of an open model; `test_duration` is the length of the test (the
  // ramp model uses it when no rampDuration is given). Error for kConcurrent.
  static Result<RateSchedule> ForModel(const config::LoadModel& model, Nanos test_duration);

  // The rate at time t since the start.
  double RateAt(Nanos t) const;
  // Arrivals due in [0, t]: N(t).
  double CumulativeAt(Nanos t) const;
  // When arrival k is due, or nullopt when it never is (the schedule ended first).
  std::optional<Nanos> ArrivalTime(uint64_t k) const;
  // Total length of one pass over the segments.
  Nanos length() const { return length_; }

 private:
  std::vector<Segment> segments_;
  std::vector<double> start_count_;  // N at each segment's start
  double cycle_count_ = 0;           // N over one pass
  Nanos length_{0};
  bool repeat_ = false;
};

}  // namespace volley::engine
