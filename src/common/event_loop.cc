#include "volley/common/event_loop.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <string>

namespace volley {

EventLoop::EventLoop(const Clock& clock) : clock_(clock), now_(clock.Now()) {}

EventLoop::~EventLoop() {
  if (wakefd_ >= 0) close(wakefd_);
  if (epfd_ >= 0) close(epfd_);
}

Result<void> EventLoop::Init() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) return tl::unexpected(ErrnoError("epoll_create1", errno));
  const int wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wakefd < 0) return tl::unexpected(ErrnoError("eventfd", errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &wake_handler_marker_;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd, &ev) != 0) {
    close(wakefd);
    return tl::unexpected(ErrnoError("epoll_ctl(eventfd)", errno));
  }
  events_.resize(256);
  // Another thread may have called Post() or Stop() before this loop existed; their
  // wake-up had nowhere to go, so give it now.
  std::lock_guard<std::mutex> lock(mu_);
  wakefd_ = wakefd;
  if (!posted_.empty() || stopped()) WakeLocked();
  return {};
}

void EventLoop::WakeLocked() {
  if (wakefd_ < 0) return;  // before Init(): Init() wakes the loop
  uint64_t one = 1;
  [[maybe_unused]] ssize_t w = write(wakefd_, &one, sizeof one);
}

Result<void> EventLoop::Add(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return tl::unexpected(ErrnoError("epoll_ctl(ADD)", errno));
  }
  return {};
}

Result<void> EventLoop::Modify(int fd, uint32_t events, IoHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
    return tl::unexpected(ErrnoError("epoll_ctl(MOD)", errno));
  }
  return {};
}

void EventLoop::Remove(int fd) { epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::HeapSwap(size_t a, size_t b) {
  std::swap(heap_[a], heap_[b]);
  heap_[a]->heap_index_ = a;
  heap_[b]->heap_index_ = b;
}

void EventLoop::SiftUp(size_t i) {
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (heap_[parent]->deadline_ <= heap_[i]->deadline_) break;
    HeapSwap(i, parent);
    i = parent;
  }
}

void EventLoop::SiftDown(size_t i) {
  const size_t n = heap_.size();
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && heap_[l]->deadline_ < heap_[m]->deadline_) m = l;
    if (r < n && heap_[r]->deadline_ < heap_[m]->deadline_) m = r;
    if (m == i) break;
    HeapSwap(i, m);
    i = m;
  }
}

void EventLoop::RemoveAt(size_t i) {
  Timer* t = heap_[i];
  const size_t last = heap_.size() - 1;
  if (i != last) {
    HeapSwap(i, last);
  }
  heap_.pop_back();
  t->heap_index_ = Timer::kNotArmed;
  if (i < heap_.size()) {
    SiftDown(i);
    SiftUp(i);
  }
}

void EventLoop::Arm(Timer* timer, Nanos deadline) {
  if (timer->armed()) {
    const Nanos old = timer->deadline_;
    timer->deadline_ = deadline;
    if (deadline < old) {
      SiftUp(timer->heap_index_);
    } else {
      SiftDown(timer->heap_index_);
    }
    return;
  }
  timer->deadline_ = deadline;
  timer->heap_index_ = heap_.size();
  heap_.push_back(timer);
  SiftUp(timer->heap_index_);
}

void EventLoop::Cancel(Timer* timer) {
  if (timer->armed()) RemoveAt(timer->heap_index_);
}

void EventLoop::Defer(Deferred* d) {
  if (d->deferred_) return;
  d->deferred_ = true;
  deferred_.push_back(d);
}

void EventLoop::Cancel(Deferred* d) {
  if (!d->deferred_) return;
  d->deferred_ = false;
  // Rare (an object destroyed with work pending): a linear search is fine.
  for (auto* list : {&deferred_, &running_deferred_}) {
    std::replace(list->begin(), list->end(), d, static_cast<Deferred*>(nullptr));
  }
}

void EventLoop::RunDeferred() {
  while (!deferred_.empty()) {
    running_deferred_.swap(deferred_);
    for (size_t i = 0; i < running_deferred_.size(); ++i) {
      Deferred* d = running_deferred_[i];
      if (d == nullptr) continue;  // cancelled
      d->deferred_ = false;
      d->OnDeferred();
    }
    running_deferred_.clear();
  }
}

void EventLoop::FireTimers() {
  while (!heap_.empty() && heap_.front()->deadline_ <= now_) {
    Timer* t = heap_.front();
    RemoveAt(0);
    t->OnTimer();
  }
}

void EventLoop::DrainWake() {
  uint64_t value;
  while (read(wakefd_, &value, sizeof value) > 0) {
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_.swap(posted_);
  }
  for (auto& fn : running_) fn();
  running_.clear();
}

int EventLoop::RunOnce(Nanos max_wait) {
  Nanos wait = max_wait;
  if (!deferred_.empty()) {
    wait = Nanos(0);  // deferred from outside a turn (e.g. before the first one)
  } else if (!heap_.empty()) {
    Nanos until = heap_.front()->deadline_ - clock_.Now();
    wait = std::clamp(until, Nanos(0), wait);
  }
  timespec ts{static_cast<time_t>(wait.count() / 1'000'000'000),
              static_cast<long>(wait.count() % 1'000'000'000)};
  // epoll_pwait2 (Linux 5.11) gives nanosecond timeouts. Where it is missing (ENOSYS) or
  // refused by a seccomp profile older than it (EPERM), fall back for good.
  static std::atomic<bool> no_pwait2{false};
  int n = -1;
  if (!no_pwait2.load(std::memory_order_relaxed)) {
    n = epoll_pwait2(epfd_, events_.data(), static_cast<int>(events_.size()), &ts, nullptr);
    if (n < 0 && errno != EINTR) no_pwait2.store(true, std::memory_order_relaxed);
  }
  if (n < 0 && no_pwait2.load(std::memory_order_relaxed)) {
    // Kernels before 5.11: millisecond resolution, rounded up so timers are never early.
    int ms = static_cast<int>((wait.count() + 999'999) / 1'000'000);
    n = epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), ms);
  }
  now_ = clock_.Now();
  for (int i = 0; i < n; ++i) {
    void* ptr = events_[i].data.ptr;
    if (ptr == &wake_handler_marker_) {
      DrainWake();
    } else {
      static_cast<IoHandler*>(ptr)->OnIo(events_[i].events);
    }
  }
  if (n == static_cast<int>(events_.size()) && events_.size() < 4096) {
    events_.resize(events_.size() * 2);
  }
  if (n > 0) now_ = clock_.Now();
  FireTimers();
  RunDeferred();
  return std::max(n, 0);
}

void EventLoop::Run() {
  while (!stopped()) RunOnce(Nanos(1'000'000'000));
}

void EventLoop::Stop() {
  stop_.store(true, std::memory_order_release);
  std::lock_guard<std::mutex> lock(mu_);
  WakeLocked();
}

bool EventLoop::stopped() const { return stop_.load(std::memory_order_acquire); }

void EventLoop::Post(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  posted_.push_back(std::move(fn));
  WakeLocked();
}

}  // namespace volley
