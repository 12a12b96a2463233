// Waiting on a condition variable until a time of an injected Clock.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "volley/common/clock.h"

namespace volley::output::otlp {

// How often a waiter re-reads a clock that is not the SteadyClock (a FakeClock moves
// without notifying anyone), in real time.
inline constexpr Nanos kForeignClockPoll = std::chrono::milliseconds(1);

// Blocks on `cv` (with `lock` held on entry and exit) until pred() holds (→ true) or
// `clock` reaches `until` (→ pred()). Notify `cv` after changing what pred() reads. With
// the SteadyClock it sleeps until the time; with another clock it re-reads it every
// kForeignClockPoll, so a test that advances a FakeClock wakes it within a millisecond.
template <class Pred>
bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, const Clock& clock,
               Nanos until, Pred pred) {
  const bool steady = dynamic_cast<const SteadyClock*>(&clock) != nullptr;
  while (!pred()) {
    const Nanos now = clock.Now();
    if (now >= until) return pred();
    Nanos slice = std::min<Nanos>(until - now, std::chrono::hours(1));
    if (!steady) slice = std::min(slice, kForeignClockPoll);
    cv.wait_for(lock, slice);
  }
  return true;
}

}  // namespace volley::output::otlp
