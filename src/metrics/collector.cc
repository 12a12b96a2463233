#include "volley/metrics/collector.h"

#include <algorithm>
#include <utility>

namespace volley::metrics {

Collector::Collector(Nanos start, size_t max_intervals)
    : start_(start), max_intervals_(std::max<size_t>(max_intervals, 1)), last_tick_(start) {}

void Collector::AddDelta(Snapshot delta) {
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_.empty()) {
    pending_ = std::move(delta);
  } else {
    merge_conflicts_ += pending_.Merge(delta);
  }
}

void Collector::Tick(Nanos now) {
  std::lock_guard<std::mutex> lock(mu_);
  now = std::max(now, last_tick_);
  merge_conflicts_ += cumulative_.Merge(pending_);
  ring_.push_back(Interval{last_tick_, now, std::move(pending_)});
  pending_ = Snapshot();
  last_tick_ = now;
  while (ring_.size() > max_intervals_) {
    ring_.pop_front();
    ++dropped_;
  }
}

Snapshot Collector::Cumulative() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cumulative_;
}

std::vector<Interval> Collector::Intervals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::vector<Interval>(ring_.begin(), ring_.end());
}

std::vector<Interval> Collector::IntervalsAfter(Nanos t) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto first = std::partition_point(ring_.begin(), ring_.end(),
                                    [t](const Interval& i) { return i.end <= t; });
  return std::vector<Interval>(first, ring_.end());
}

Interval Collector::LastInterval() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (ring_.empty()) return Interval{start_, start_, Snapshot()};
  return ring_.back();
}

uint64_t Collector::dropped_intervals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

uint64_t Collector::merge_conflicts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return merge_conflicts_;
}

}  // namespace volley::metrics
