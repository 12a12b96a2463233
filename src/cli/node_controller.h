// The test a `volley node` runs, driven by its control API (cli internal): start or replace
// a test from a plan, stop it, and report its state (specs/standalone-compat.md "Control
// API"). Thread-safe: the HTTP handlers of the control API call it from several threads.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "volley/common/result.h"
#include "volley/config/test_plan.h"
#include "volley/metrics/collector.h"
#include "volley/metrics/snapshot.h"

namespace volley::engine {
class Engine;
}

namespace volley::cli {

class NodeController {
 public:
  // idle: no test yet, or the last one was stopped by request; running; standby: the last
  // test ran to its end and its results stay readable until the next one.
  enum class State { kIdle, kRunning, kStandby };

  NodeController(std::string node_id, std::string region)
      : node_id_(std::move(node_id)), region_(std::move(region)) {}
  ~NodeController();  // stops the test and joins

  // Checks `plan` (CheckPlan and Engine::Create); on error returns it and leaves the
  // running test alone. Otherwise stops the running test (waiting for its drain) and
  // starts this one on a thread of its own. Returns the new run id.
  Result<std::string> Start(config::TestPlan plan);
  // As Start, but the test's first request waits until MonotonicNow() reaches `start_at`
  // (a cluster's synchronized start; a Stop meanwhile cancels it), and `on_end` is called
  // once on the test's thread with the final summary as JSON (output::ToJson), or with the
  // error when the run failed. `on_end` must not call back into this controller.
  Result<std::string> StartAt(config::TestPlan plan, Nanos start_at,
                              std::function<void(Result<std::string>)> on_end);
  // Stops the running test (its drain included); false if none was running.
  bool Stop();

  State state() const;
  static const char* StateName(State s);
  // The GET /health document: node_id, region, node_state, rps, error_rate_pct, workers,
  // memory_mb, cpu_pct, time_remaining_secs (and run_id).
  std::string HealthJson() const;
  // The current (or last) test's cumulative measurements; empty before the first test.
  metrics::Snapshot Cumulative() const;
  // Labels of the current (or last) run for the exposition: node_id, region, run_id.
  std::string run_id() const;

 private:
  void RunTest(config::TestPlan plan, std::unique_ptr<engine::Engine> engine, Nanos start_at,
               std::function<void(Result<std::string>)> on_end);
  void StopLocked(std::unique_lock<std::mutex>& lock);

  const std::string node_id_;
  const std::string region_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  State state_ = State::kIdle;                     // guarded by mu_
  bool stop_requested_ = false;                    // guarded by mu_
  engine::Engine* engine_ = nullptr;               // guarded by mu_; the running one
  std::shared_ptr<metrics::Collector> collector_;  // guarded by mu_
  config::TestPlan plan_;                          // guarded by mu_
  Nanos started_{0};                               // guarded by mu_
  std::thread thread_;                             // guarded by mu_
  // For cpu_pct: process CPU time and wall time at the previous /health.
  mutable double last_cpu_s_ = 0;  // guarded by mu_
  mutable Nanos last_cpu_at_{0};   // guarded by mu_
};

}  // namespace volley::cli
