#include <system_error>
#include <utility>

#include "volley/output/delivery.h"
#include "volley/output/delivery_ticker.h"

namespace volley::output::delivery {

Ticker::Ticker(const Clock& clock, Nanos interval, TickFn tick)
    : clock_(clock), interval_(interval), tick_(std::move(tick)) {}

Ticker::~Ticker() { Stop(); }

Result<void> Ticker::Start(const std::string& what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return {};
  const Nanos first = clock_.Now() + interval_;
  try {
    thread_ = std::thread([this, first] { Loop(first); });
  } catch (const std::system_error& e) {
    return MakeError(ErrorCode::kInternal,
                     "cannot start the collection thread of " + what + ": " + e.what());
  }
  started_ = true;
  return {};
}

void Ticker::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  thread_.join();
}

void Ticker::Loop(Nanos first) {
  std::unique_lock<std::mutex> lock(mu_);
  Nanos next = first;
  while (!stopping_) {
    if (WaitUntil(cv_, lock, clock_, next, [&] { return stopping_; })) break;
    lock.unlock();
    const Nanos now = clock_.Now();
    tick_(now);
    lock.lock();
    next += interval_;
    if (next <= now) next = now + interval_;  // fell behind: skip, never burst
  }
}

}  // namespace volley::output::delivery
