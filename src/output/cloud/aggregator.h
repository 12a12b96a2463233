// Time buckets of the cloud output (specs/k6-metrics-v2.md, "Aggregation on the client"):
// the collector's interval deltas folded into buckets of the aggregation period, keyed by
// unix time, handed out once they are older than the wait period.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "volley/common/clock.h"
#include "volley/metrics/snapshot.h"

namespace volley::output::cloud {

// One bucket ready to send: its start (whole unix seconds) and, per series, the sum of the
// deltas that fell in it (counters add, gauges combine, rates add, histograms merge).
struct Bucket {
  int64_t start_unix_seconds = 0;
  metrics::Snapshot values;
  // True when the bucket is not newer than one already handed out: a late delta. If its
  // time was sent before, `values` holds only what arrived since, so a receiver that merges
  // duplicate (series, time) values ends with the exact total.
  bool late = false;
};

// Not thread-safe: confined to the output's aggregation thread.
//
// An interval delta goes whole into the bucket holding the interval's start (its samples
// were taken between start and end; the collector ticks every second, so a bucket of
// period P gets about P intervals). A bucket [s, s + P) is due once its end is at least
// the wait period old: s + P + wait <= now. That is k6's rule too (it sends buckets whose
// id is below (now - wait) / P).
//
// Late deltas: a delta for a bucket already taken opens that bucket again holding only
// the new delta; it is due at once (its end is older than the wait period already) and is
// marked `late`. The sender sends it with the same timestamp; k6 does the same and
// receivers merge duplicate (series, time) values, so nothing is counted twice or lost.
class BucketAggregator {
 public:
  // `period` is whole seconds, > 0 (CloudConfig checks it).
  explicit BucketAggregator(Nanos period);

  // Folds `delta`, measured from `unix_nanos` on, into its bucket. Series that cannot be
  // merged (type clash within a bucket) keep the first value and are counted.
  void Add(int64_t unix_nanos, const metrics::Snapshot& delta);

  // Removes and returns, oldest first, the buckets due at `now_unix_nanos` with `wait`.
  // Pass wait = 0 and a far `now` (or call TakeAll) to flush everything at the end.
  std::vector<Bucket> TakeDue(int64_t now_unix_nanos, Nanos wait);
  std::vector<Bucket> TakeAll();

  size_t pending_buckets() const { return pending_.size(); }
  // Buckets handed out `late`, since construction.
  uint64_t late_buckets() const { return late_; }
  uint64_t merge_conflicts() const { return merge_conflicts_; }

 private:
  Bucket MakeBucket(int64_t id, metrics::Snapshot values);

  const int64_t period_nanos_;
  std::map<int64_t, metrics::Snapshot> pending_;  // bucket id -> values
  int64_t highest_taken_ = INT64_MIN;             // the highest bucket id handed out
  uint64_t late_ = 0;
  uint64_t merge_conflicts_ = 0;
};

}  // namespace volley::output::cloud
