#include "aggregator.h"

#include <utility>

namespace volley::output::cloud {
namespace {

// Floor division: bucket ids stay ordered for times before the epoch too.
int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

BucketAggregator::BucketAggregator(Nanos period) : period_nanos_(period.count()) {}

void BucketAggregator::Add(int64_t unix_nanos, const metrics::Snapshot& delta) {
  if (delta.empty()) return;
  metrics::Snapshot& bucket = pending_[FloorDiv(unix_nanos, period_nanos_)];
  if (bucket.empty()) {
    bucket = delta;
  } else {
    merge_conflicts_ += bucket.Merge(delta);
  }
}

Bucket BucketAggregator::MakeBucket(int64_t id, metrics::Snapshot values) {
  Bucket b;
  b.start_unix_seconds = FloorDiv(id * period_nanos_, 1'000'000'000);
  b.values = std::move(values);
  b.late = id <= highest_taken_;
  if (b.late) ++late_;
  return b;
}

std::vector<Bucket> BucketAggregator::TakeDue(int64_t now_unix_nanos, Nanos wait) {
  std::vector<Bucket> out;
  // Due: (id + 1) * period + wait <= now, i.e. id < (now - wait) / period (floored).
  const int64_t cutoff = FloorDiv(now_unix_nanos - wait.count(), period_nanos_);
  int64_t highest = highest_taken_;
  for (auto it = pending_.begin(); it != pending_.end() && it->first < cutoff;) {
    out.push_back(MakeBucket(it->first, std::move(it->second)));
    highest = std::max(highest, it->first);
    it = pending_.erase(it);
  }
  highest_taken_ = highest;
  return out;
}

std::vector<Bucket> BucketAggregator::TakeAll() {
  std::vector<Bucket> out;
  int64_t highest = highest_taken_;
  for (auto& [id, values] : pending_) {
    out.push_back(MakeBucket(id, std::move(values)));
    highest = std::max(highest, id);
  }
  pending_.clear();
  highest_taken_ = highest;
  return out;
}

}  // namespace volley::output::cloud
