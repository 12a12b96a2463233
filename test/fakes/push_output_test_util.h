// Test support for the push outputs (OTLP, remote write): the fake clock, the collector,
// the run's context and the captured log lines their tests share, and a pump that moves
// the fake clock until the output's threads have done something. Header-only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "volley/common/clock.h"
#include "volley/metrics/collector.h"
#include "volley/output/output.h"

namespace volley::output::testing {

class PushOutputTest : public ::testing::Test {
 protected:
  // The context: collector start now, wall time `wall_start_unix_nanos`, run "r" on node
  // "n" in region "eu", the fake clock.
  explicit PushOutputTest(int64_t wall_start_unix_nanos) : collector_(clock_.Now()) {
    ctx_.collector_start = clock_.Now();
    ctx_.wall_start_unix_nanos = wall_start_unix_nanos;
    ctx_.run_id = "r";
    ctx_.node_id = "n";
    ctx_.region = "eu";
    ctx_.clock = &clock_;
  }

  // A log sink that keeps the lines for LogsContaining (thread-safe).
  std::function<void(const std::string&)> LogSink() {
    return [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_.push_back(line);
    };
  }

  // Advances the fake clock 100 ms at a time (giving the threads a few real ms after each
  // step) until `cond` holds; false after 30 s of real time.
  bool PumpUntil(const std::function<bool()>& cond) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!cond()) {
      if (std::chrono::steady_clock::now() > end) return false;
      clock_.Advance(std::chrono::milliseconds(100));
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
    }
    return true;
  }

  size_t LogsContaining(const std::string& part) {
    std::lock_guard<std::mutex> lock(log_mu_);
    size_t n = 0;
    for (const auto& l : log_) n += l.find(part) != std::string::npos ? 1 : 0;
    return n;
  }

  FakeClock clock_;
  metrics::Collector collector_;
  OutputContext ctx_;
  std::mutex log_mu_;
  std::vector<std::string> log_;  // guarded by log_mu_
};

}  // namespace volley::output::testing
