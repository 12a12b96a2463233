#include "volley/engine/rate_schedule.h"

#include <algorithm>
#include <cmath>

namespace volley::engine {
namespace {

double Seconds(Nanos d) { return static_cast<double>(d.count()) / 1e9; }

// Arrivals within the first x seconds of a segment.
double SegmentCount(const RateSchedule::Segment& s, double x) {
  const double len = Seconds(s.length);
  if (len <= 0) return 0;
  const double slope = (s.to - s.from) / len;
  return s.from * x + 0.5 * slope * x * x;
}

}  // namespace

RateSchedule::RateSchedule(std::vector<Segment> segments, bool repeat)
    : segments_(std::move(segments)), repeat_(repeat) {
  double n = 0;
  for (const auto& s : segments_) {
    start_count_.push_back(n);
    n += SegmentCount(s, Seconds(s.length));
    length_ += s.length;
  }
  cycle_count_ = n;
}

Result<RateSchedule> RateSchedule::ForModel(const config::LoadModel& m, Nanos test_duration) {
  using K = config::LoadModelKind;
  std::vector<Segment> seg;
  switch (m.kind) {
    case K::kConcurrent:
      return MakeError(ErrorCode::kInvalidArgument, "the concurrent model has no arrival rate");
    case K::kRps:
      seg.push_back({test_duration, m.target, m.target});
      return RateSchedule(std::move(seg), false);
    case K::kRamp: {
      // Thirds: rise min→max, hold max, fall back to min; then hold min.
      const Nanos ramp = m.ramp_duration > Nanos(0) ? m.ramp_duration : test_duration;
      const Nanos third = ramp / 3;
      seg.push_back({third, m.min, m.max});
      seg.push_back({third, m.max, m.max});
      seg.push_back({ramp - 2 * third, m.max, m.min});
      if (test_duration > ramp) seg.push_back({test_duration - ramp, m.min, m.min});
      return RateSchedule(std::move(seg), false);
    }
    case K::kDailyTraffic: {
      const Nanos c = m.cycle_duration;
      auto part = [&](double ratio) {
        return Nanos(static_cast<int64_t>(std::llround(static_cast<double>(c.count()) * ratio)));
      };
      const double from[5] = {m.min, m.max, m.max, m.mid, m.mid};
      const double to[5] = {m.max, m.max, m.mid, m.mid, m.min};
      Nanos used{0};
      for (int i = 0; i < 5; ++i) {
        Nanos len = std::min(part(m.ratios[i]), c - used);
        seg.push_back({len, from[i], to[i]});
        used += len;
      }
      if (c > used) seg.push_back({c - used, m.min, m.min});
      return RateSchedule(std::move(seg), true);
    }
    case K::kStages: {
      double rate = 0;  // like k6's ramping arrival rate: start from 0
      for (const auto& s : m.stages) {
        seg.push_back({s.duration, rate, s.target});
        rate = s.target;
      }
      return RateSchedule(std::move(seg), false);
    }
  }
  return MakeError(ErrorCode::kInternal, "unknown load model");
}

double RateSchedule::RateAt(Nanos t) const {
  if (segments_.empty() || t < Nanos(0)) return 0;
  if (repeat_ && length_ > Nanos(0)) t = Nanos(t.count() % length_.count());
  for (const auto& s : segments_) {
    if (t < s.length) {
      return s.from + (s.to - s.from) * Seconds(t) / Seconds(s.length);
    }
    t -= s.length;
  }
  return 0;
}

double RateSchedule::CumulativeAt(Nanos t) const {
  if (segments_.empty() || t <= Nanos(0)) return 0;
  double base = 0;
  if (repeat_ && length_ > Nanos(0)) {
    base = static_cast<double>(t.count() / length_.count()) * cycle_count_;
    t = Nanos(t.count() % length_.count());
  }
  for (size_t i = 0; i < segments_.size(); ++i) {
    if (t < segments_[i].length)
      return base + start_count_[i] + SegmentCount(segments_[i], Seconds(t));
    t -= segments_[i].length;
  }
  return base + cycle_count_;
}

std::optional<Nanos> RateSchedule::ArrivalTime(uint64_t k) const {
  if (cycle_count_ <= 0) return std::nullopt;
  double target = static_cast<double>(k);
  Nanos offset{0};
  if (repeat_) {
    const double cycles = std::floor(target / cycle_count_);
    target -= cycles * cycle_count_;
    offset = Nanos(static_cast<int64_t>(cycles) * length_.count());
  } else if (target >= cycle_count_) {
    return std::nullopt;
  }
  // The last segment whose starting count is <= target and that has arrivals.
  size_t i =
      std::upper_bound(start_count_.begin(), start_count_.end(), target) - start_count_.begin() - 1;
  Nanos seg_start = offset;
  for (size_t j = 0; j < i; ++j) seg_start += segments_[j].length;
  while (i < segments_.size() &&
         target >= start_count_[i] + SegmentCount(segments_[i], Seconds(segments_[i].length))) {
    seg_start += segments_[i].length;
    ++i;
  }
  if (i >= segments_.size()) return std::nullopt;
  const Segment& s = segments_[i];
  const double need = target - start_count_[i];
  const double len = Seconds(s.length);
  const double a = 0.5 * (s.to - s.from) / len;  // need = a x^2 + from x
  double x;
  if (need <= 0) {
    x = 0;
  } else if (std::fabs(a) < 1e-12) {
    x = need / s.from;
  } else {
    // Stable root of a x^2 + b x - need = 0 with b = from >= 0.
    const double b = s.from;
    const double disc = std::max(0.0, b * b + 4 * a * need);
    x = (2 * need) / (b + std::sqrt(disc));
  }
  x = std::clamp(x, 0.0, len);
  return seg_start + Nanos(static_cast<int64_t>(std::llround(x * 1e9)));
}

}  // namespace volley::engine
