// The delivery path's collection clock: a thread that calls a push output's collection
// every interval of the injected clock, so every push output keeps its interval the same
// way whatever its endpoint does (the collection never does I/O; the Sender does).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "volley/common/clock.h"
#include "volley/common/result.h"

namespace volley::output::delivery {

// Thread-safe: Start and Stop from the thread that owns the output (Stop from the
// destructor too). Owns one thread, started by Start and joined by Stop.
class Ticker {
 public:
  // Called on the ticker's thread with the clock's time of the tick; never concurrently
  // with itself, never after Stop returned.
  using TickFn = std::function<void(Nanos now)>;

  // `clock` must outlive the ticker. REQUIRES: interval > 0.
  Ticker(const Clock& clock, Nanos interval, TickFn tick);
  // Stop().
  ~Ticker();
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  // Starts the thread; the first tick is one interval after now (read here, so a test
  // that advances a FakeClock right after Start cannot skip it). A tick that falls behind
  // is skipped, never bursted. A second call does nothing. Errors: kInternal naming
  // `what` when the thread cannot be started.
  Result<void> Start(const std::string& what);
  // Ends the ticks and joins the thread (a running tick finishes first). Idempotent.
  void Stop();

 private:
  void Loop(Nanos first);

  // Immutable after construction.
  const Clock& clock_;
  const Nanos interval_;
  const TickFn tick_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;   // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;     // joined by Stop (the owner's thread)
};

}  // namespace volley::output::delivery
