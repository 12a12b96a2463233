// Collector: where the workers' deltas meet (DESIGN.md §3). Workers hand over a delta once
// per tick; the tick closes an interval, folds it into the cumulative snapshot and keeps
// the last intervals in a bounded ring for time-bucketed outputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "volley/common/clock.h"
#include "volley/metrics/snapshot.h"

namespace volley::metrics {

// One closed interval: what every worker handed over between two ticks.
struct Interval {
  Nanos start{0};
  Nanos end{0};
  Snapshot delta;

  friend bool operator==(const Interval&, const Interval&) = default;
};

// Thread-safe: every method may be called from any thread. All of them take one mutex;
// they are meant for once-per-tick calls (per worker, per output), never per request.
// Readers get copies, so a slow reader holds the lock only while copying.
class Collector {
 public:
  // The first interval starts at `start` (the caller's Clock time). At most
  // `max_intervals` (>= 1) closed intervals are kept; older ones are dropped.
  explicit Collector(Nanos start, size_t max_intervals = 3600);

  // Accumulates a worker's delta (Shard::TakeDelta) into the current interval. Series that
  // cannot be merged (type clash) keep the first value and are counted in
  // merge_conflicts().
  void AddDelta(Snapshot delta);

  // Closes the current interval at `now`: folds it into Cumulative() and appends it to the
  // ring (an interval without deltas is appended too, with an empty snapshot, so time has
  // no gaps). A `now` earlier than the previous tick is taken as equal to it.
  void Tick(Nanos now);

  // Everything since `start`, up to the last tick (deltas added after it are not in yet).
  Snapshot Cumulative() const;
  // The kept closed intervals, oldest first.
  std::vector<Interval> Intervals() const;
  // The kept intervals whose end is after `t`, oldest first: for a reader polling for new
  // ones (pass the end of the last interval it saw).
  std::vector<Interval> IntervalsAfter(Nanos t) const;
  // The newest closed interval; {start, start, empty} before the first tick.
  Interval LastInterval() const;
  // Closed intervals dropped from the ring because it was full.
  uint64_t dropped_intervals() const;
  // Series that could not be merged (see AddDelta), since the start.
  uint64_t merge_conflicts() const;

 private:
  // Immutable after construction.
  const Nanos start_;
  const size_t max_intervals_;

  mutable std::mutex mu_;
  Nanos last_tick_;               // guarded by mu_
  Snapshot pending_;              // guarded by mu_: the open interval
  Snapshot cumulative_;           // guarded by mu_
  std::deque<Interval> ring_;     // guarded by mu_
  uint64_t dropped_ = 0;          // guarded by mu_
  uint64_t merge_conflicts_ = 0;  // guarded by mu_
};

}  // namespace volley::metrics
