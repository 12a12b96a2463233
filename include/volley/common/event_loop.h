// A single-threaded epoll event loop with an intrusive timer heap. The engine's workers
// and the built-in target each run one per thread (wrk's model: share nothing).
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/result.h"

namespace volley {

class EventLoop;

// Receives readiness events for one file descriptor. The handler is owned by the caller
// and must stay alive until its fd is removed from the loop.
class IoHandler {
 public:
  virtual ~IoHandler() = default;
  // `events` is the EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP mask that epoll reported.
  virtual void OnIo(uint32_t events) = 0;
};

// A timer is an object, not a callback: arming and cancelling never allocate. Owned by the
// caller; it must be cancelled (or have fired) before it is destroyed.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void OnTimer() = 0;
  bool armed() const { return heap_index_ != kNotArmed; }
  Nanos deadline() const { return deadline_; }

 private:
  friend class EventLoop;
  static constexpr size_t kNotArmed = static_cast<size_t>(-1);
  Nanos deadline_{0};
  size_t heap_index_ = kNotArmed;
};

// Work to run at the end of the current loop turn, after every ready descriptor and due
// timer has been handled. Owned by the caller, like a Timer; Cancel it (or let it run)
// before destroying it.
class Deferred {
 public:
  virtual ~Deferred() = default;
  virtual void OnDeferred() = 0;
  bool deferred() const { return deferred_; }

 private:
  friend class EventLoop;
  bool deferred_ = false;
};

// Thread confinement: every method except Stop() and Post() must be called on the thread
// that runs the loop (or before it starts running).
class EventLoop {
 public:
  // `clock` must outlive the loop. Timer deadlines are in the clock's time.
  explicit EventLoop(const Clock& clock);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Creates the epoll and wake-up descriptors. Must succeed before anything else.
  Result<void> Init();

  Result<void> Add(int fd, uint32_t events, IoHandler* handler);
  Result<void> Modify(int fd, uint32_t events, IoHandler* handler);
  // Removing an fd that is not registered is harmless.
  void Remove(int fd);

  // Arms (or re-arms) `timer` to fire at the absolute time `deadline`.
  void Arm(Timer* timer, Nanos deadline);
  void Cancel(Timer* timer);

  // Runs `d` once at the end of this turn (deferring a deferred object again is a no-op).
  // Work deferred while deferred work runs goes in the same turn.
  void Defer(Deferred* d);
  void Cancel(Deferred* d);

  // The time cached at the last wake-up; RefreshNow() reads the clock again.
  Nanos Now() const { return now_; }
  Nanos RefreshNow() { return now_ = clock_.Now(); }
  const Clock& clock() const { return clock_; }

  // Waits at most `max_wait` (or until the next timer) and dispatches what is ready, then
  // the due timers, then the deferred work. Returns how many descriptors were ready.
  int RunOnce(Nanos max_wait);
  // Dispatches until Stop() is called.
  void Run();

  // Thread-safe: makes Run() return after the current iteration.
  void Stop();
  bool stopped() const;
  // Thread-safe: runs `fn` on the loop's thread at its next iteration. For rare control
  // messages only (it locks and allocates), never for per-request work.
  void Post(std::function<void()> fn);

 private:
  void HeapSwap(size_t a, size_t b);
  void SiftUp(size_t i);
  void SiftDown(size_t i);
  void RemoveAt(size_t i);
  void FireTimers();
  void RunDeferred();
  void DrainWake();
  void WakeLocked();  // mu_ held

  const Clock& clock_;
  int epfd_ = -1;
  int wakefd_ = -1;  // set by Init() under mu_ (Post() and Stop() may come first)
  Nanos now_{0};
  std::vector<Timer*> heap_;
  std::vector<epoll_event> events_;
  std::vector<Deferred*> deferred_, running_deferred_;
  IoHandler* wake_handler_marker_ = nullptr;

  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::function<void()>> posted_;   // guarded by mu_
  std::vector<std::function<void()>> running_;  // loop thread only
};

}  // namespace volley
