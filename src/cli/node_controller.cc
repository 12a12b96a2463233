#include "node_controller.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "volley/engine/engine.h"
#include "volley/metrics/names.h"
#include "volley/output/summary.h"
#include "volley/plan/plan_check.h"

namespace volley::cli {
namespace {

namespace names = metrics::names;

double ProcessCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

double ResidentMegabytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1048576.0;
}

}  // namespace

NodeController::~NodeController() {
  std::unique_lock<std::mutex> lock(mu_);
  StopLocked(lock);
}

const char* NodeController::StateName(State s) {
  switch (s) {
    case State::kRunning:
      return "running";
    case State::kStandby:
      return "standby";
    case State::kIdle:
      break;
  }
  return "idle";
}

NodeController::State NodeController::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

Result<std::string> NodeController::Start(config::TestPlan plan) {
  return StartAt(std::move(plan), Nanos(0), nullptr);
}

Result<std::string> NodeController::StartAt(config::TestPlan plan, Nanos start_at,
                                            std::function<void(Result<std::string>)> on_end) {
  if (auto r = plan::CheckPlan(plan); !r) return tl::unexpected(r.error());
  // Engine::Create resolves the target and loads TLS material: a failure there is the
  // plan's too, reported before the running test is touched.
  auto engine = engine::Engine::Create(plan);
  if (!engine) return tl::unexpected(engine.error());
  std::unique_lock<std::mutex> lock(mu_);
  // Another Start may slip in while the lock is released to join: stop until none runs.
  while (thread_.joinable()) StopLocked(lock);
  stop_requested_ = false;
  state_ = State::kRunning;
  plan_ = plan;
  collector_ = std::make_shared<metrics::Collector>(MonotonicNow(), 8);
  started_ = MonotonicNow();
  engine_ = engine->get();
  thread_ = std::thread(&NodeController::RunTest, this, std::move(plan), std::move(*engine),
                        start_at, std::move(on_end));
  return plan_.run_id;
}

bool NodeController::Stop() {
  std::unique_lock<std::mutex> lock(mu_);
  const bool was_running = state_ == State::kRunning;
  StopLocked(lock);
  if (was_running) state_ = State::kIdle;
  return was_running;
}

void NodeController::StopLocked(std::unique_lock<std::mutex>& lock) {
  if (!thread_.joinable()) return;
  stop_requested_ = true;
  cv_.notify_all();  // a test waiting for its start instant
  if (engine_) engine_->RequestStop();
  std::thread t = std::move(thread_);
  lock.unlock();
  t.join();  // the test drains (grace period) and prints its report
  lock.lock();
}

void NodeController::RunTest(config::TestPlan plan, std::unique_ptr<engine::Engine> engine,
                             Nanos start_at, std::function<void(Result<std::string>)> on_end) {
  std::shared_ptr<metrics::Collector> collector;
  {
    std::unique_lock<std::mutex> lock(mu_);
    // A cluster's start instant on this node's steady clock; Stop() wakes the wait.
    while (!stop_requested_ && MonotonicNow() < start_at) {
      cv_.wait_for(lock, std::min<Nanos>(start_at - MonotonicNow(), std::chrono::milliseconds(50)));
    }
    if (stop_requested_ && MonotonicNow() < start_at) {
      engine_ = nullptr;
      lock.unlock();
      if (on_end) on_end(std::string("{\"stopped_before_start\":true}"));
      return;
    }
    started_ = MonotonicNow();
    collector_ = std::make_shared<metrics::Collector>(started_, 8);
    collector = collector_;
  }
  fprintf(stderr, "volley node: run %s -> %s://%s%s, %d connections\n", plan.run_id.c_str(),
          plan.target.scheme.c_str(), plan.target.HostHeader().c_str(), plan.target.path.c_str(),
          plan.workers);
  auto info = engine->Run(*collector, nullptr);
  {
    std::lock_guard<std::mutex> lock(mu_);
    engine_ = nullptr;
    if (!stop_requested_) state_ = State::kStandby;
  }
  if (!info) {
    fprintf(stderr, "volley node: run %s failed: %s\n", plan.run_id.c_str(),
            info.error().message.c_str());
    if (on_end) on_end(tl::unexpected(info.error()));
    return;
  }
  auto thresholds = plan::CompileThresholds(plan);  // checked by Start(): cannot fail here
  const output::Summary summary =
      FinalSummary(plan, *info, collector->Cumulative(),
                   thresholds ? *thresholds : std::vector<metrics::CompiledThreshold>{});
  printf("run %s\n%s", plan.run_id.c_str(), output::FormatReport(summary).c_str());
  fflush(stdout);
  if (on_end) on_end(output::ToJson(summary).dump());
}

metrics::Snapshot NodeController::Cumulative() const {
  std::shared_ptr<metrics::Collector> collector;
  {
    std::lock_guard<std::mutex> lock(mu_);
    collector = collector_;
  }
  return collector ? collector->Cumulative() : metrics::Snapshot{};
}

std::string NodeController::run_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return plan_.run_id;
}

std::string NodeController::HealthJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json j;
  j["node_id"] = node_id_;
  j["region"] = region_;
  j["node_state"] = StateName(state_);
  j["run_id"] = plan_.run_id;
  double rps = 0, error_rate = 0, remaining = 0;
  if (collector_) {
    const metrics::Interval last = collector_->LastInterval();
    const double secs = static_cast<double>((last.end - last.start).count()) / 1e9;
    if (secs > 0) rps = last.delta.SumCounter(names::kRequests) / secs;
    const metrics::Snapshot all = collector_->Cumulative();
    const double requests = all.SumCounter(names::kRequests);
    if (requests > 0) error_rate = 100.0 * all.SumCounter(names::kErrors) / requests;
    if (state_ == State::kRunning) {
      const Nanos left = plan_.duration - (MonotonicNow() - started_);
      remaining = std::max(0.0, static_cast<double>(left.count()) / 1e9);
    }
  }
  j["rps"] = rps;
  j["error_rate_pct"] = error_rate;
  j["workers"] = state_ == State::kRunning ? plan_.workers : 0;
  j["memory_mb"] = ResidentMegabytes();
  // CPU use of the process since the previous /health (100 = one core busy).
  const double cpu = ProcessCpuSeconds();
  const Nanos now = MonotonicNow();
  double cpu_pct = 0;
  if (last_cpu_at_ > Nanos(0) && now > last_cpu_at_) {
    cpu_pct =
        100.0 * (cpu - last_cpu_s_) / (static_cast<double>((now - last_cpu_at_).count()) / 1e9);
  }
  last_cpu_s_ = cpu;
  last_cpu_at_ = now;
  j["cpu_pct"] = cpu_pct;
  j["time_remaining_secs"] = remaining;
  return j.dump();
}

}  // namespace volley::cli
