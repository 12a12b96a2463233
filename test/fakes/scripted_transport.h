// Test support: a delivery::DeliveryTransport that answers from a script (statuses,
// Retry-After, transport errors, hangs until Cancel), recording every call with the fake
// time it was made at; for the push outputs' tests on a FakeClock. Header-only.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "volley/common/clock.h"
#include "volley/output/delivery.h"

namespace volley::output::testing {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Answers Post from a script; records each call with the fake time it was made at. A
// "hang" blocks until Cancel() or Release().
class ScriptedTransport final : public delivery::DeliveryTransport {
 public:
  struct Call {
    Nanos at;
    std::string body;
    Nanos timeout;
  };
  // -1: transport error; 0: hang; otherwise an HTTP status.
  struct Step {
    int status = 200;
    std::string retry_after;
    std::string body;
  };

  explicit ScriptedTransport(const Clock& clock) : clock_(clock) {}

  Result<delivery::DeliveryReply> Post(const delivery::DeliveryRequest& request,
                                       Nanos timeout) override {
    std::unique_lock<std::mutex> lock(mu_);
    calls_.push_back({clock_.Now(), std::string(request.body), timeout});
    cv_.notify_all();
    Step step = script_.empty() ? fallback_ : script_.front();
    if (!script_.empty()) script_.pop_front();
    if (step.status == 0) {
      ++hanging_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return canceled_ || released_; });
      --hanging_;
      return MakeError(ErrorCode::kIo, canceled_ ? "cancelled" : "released");
    }
    if (step.status < 0) return MakeError(ErrorCode::kIo, "Connection");
    return delivery::DeliveryReply{step.status, step.body, step.retry_after};
  }
  void Cancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    canceled_ = true;
    ++cancels_;
    cv_.notify_all();
  }

  void Script(std::vector<Step> steps) { Script(std::move(steps), Step()); }
  void Script(std::vector<Step> steps, Step fallback) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.assign(steps.begin(), steps.end());
    fallback_ = fallback;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  bool WaitForCalls(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, seconds(20), [&] { return calls_.size() >= n; });
  }
  bool WaitForHang() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, seconds(20), [&] { return hanging_ > 0; });
  }
  std::vector<Call> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  int cancels() {
    std::lock_guard<std::mutex> lock(mu_);
    return cancels_;
  }

 private:
  const Clock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Step> script_;
  Step fallback_;
  std::vector<Call> calls_;
  bool canceled_ = false;
  bool released_ = false;
  int hanging_ = 0;
  int cancels_ = 0;
};

// Polls `cond` (real time) for up to 20 s: the reporter's threads notice a FakeClock
// advance within a millisecond.
inline bool Eventually(const std::function<bool()>& cond);

// Advances `clock` by `step` at a time until cond() holds, giving the reporter's threads
// up to 20 ms (real) after each step to react. False after 20 s (real).
inline bool AdvanceUntil(FakeClock& clock, Nanos step, ScriptedTransport& t, size_t calls) {
  const auto end = std::chrono::steady_clock::now() + seconds(20);
  while (t.calls().size() < calls) {
    if (std::chrono::steady_clock::now() > end) return false;
    clock.Advance(step);
    for (int i = 0; i < 20 && t.calls().size() < calls; ++i) {
      std::this_thread::sleep_for(milliseconds(1));
    }
  }
  return true;
}

inline bool Eventually(const std::function<bool()>& cond) {
  const auto end = std::chrono::steady_clock::now() + seconds(20);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

}  // namespace volley::output::testing
