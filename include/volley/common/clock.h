// Time sources. Everything that paces, times out or flushes takes a Clock so tests can use
// a fake one instead of sleeping.
#pragma once

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace volley {

using Nanos = std::chrono::nanoseconds;

// A monotonic clock. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time since an arbitrary origin; never goes back.
  virtual Nanos Now() const = 0;
};

// CLOCK_MONOTONIC through the vDSO: about 20 ns a call.
inline Nanos MonotonicNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Nanos(int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec);
}

class SteadyClock final : public Clock {
 public:
  Nanos Now() const override { return MonotonicNow(); }
  // A process-wide instance; it has no state, so sharing it is safe.
  static SteadyClock& Instance();
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Nanos start = Nanos(1'000'000'000)) : now_(start.count()) {}
  Nanos Now() const override { return Nanos(now_.load(std::memory_order_acquire)); }
  void Advance(Nanos d) { now_.fetch_add(d.count(), std::memory_order_acq_rel); }
  void Set(Nanos t) { now_.store(t.count(), std::memory_order_release); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace volley
