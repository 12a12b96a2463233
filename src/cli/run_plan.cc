// Running a plan: signals, progress, report, JSON export. Shared by `run` and `demo`.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

#include "commands.h"
#include "volley/common/duration.h"
#include "volley/engine/engine.h"
#include "volley/metrics/collector.h"
#include "volley/output/progress.h"

namespace volley::cli {
namespace {

// Ctrl-C / SIGTERM: the first asks the engine to stop and drain; the second exits at once.
// Signals are blocked in every thread and taken by one thread with sigwait, so the engine
// is never called from a signal handler.
class SignalGuard {
 public:
  explicit SignalGuard(engine::Engine& engine) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR1);  // our own wake-up to end the thread
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::thread([this, &engine] {
      int count = 0;
      for (;;) {
        int sig = 0;
        if (sigwait(&set_, &sig) != 0 || sig == SIGUSR1) return;
        if (++count == 1) {
          interrupted_.store(true);
          static const char msg[] =
              "\nvolley: stopping; draining requests in flight (Ctrl-C again to quit now)\n";
          [[maybe_unused]] ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
          engine.RequestStop();
        } else {
          _exit(kExitInterrupted);
        }
      }
    });
  }
  ~SignalGuard() {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  bool interrupted() const { return interrupted_.load(); }

 private:
  sigset_t set_, old_;
  std::atomic<bool> interrupted_{false};
  std::thread thread_;
};

std::string TargetText(const config::TestPlan& plan) {
  return plan.target.scheme + "://" + plan.target.HostHeader() + plan.target.path;
}

}  // namespace

int ReportError(const Error& error, const char* context) {
  fprintf(stderr, "volley: %s error:\n", context);
  size_t start = 0;
  while (start <= error.message.size()) {
    size_t nl = error.message.find('\n', start);
    fprintf(stderr, "  %s\n", error.message.substr(start, nl - start).c_str());
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return error.code == ErrorCode::kInvalidArgument ? kExitConfig : kExitRuntime;
}

std::string DescribeLoad(const config::TestPlan& plan) {
  const auto& l = plan.load;
  char buf[160];
  switch (l.kind) {
    case config::LoadModelKind::kConcurrent:
      return "concurrent (closed model)";
    case config::LoadModelKind::kRps:
      snprintf(buf, sizeof buf, "rps %.6g/s (open model)", l.target);
      return buf;
    case config::LoadModelKind::kRamp:
      snprintf(buf, sizeof buf, "ramp %.6g..%.6g/s (open model)", l.min, l.max);
      return buf;
    case config::LoadModelKind::kDailyTraffic:
      snprintf(buf, sizeof buf, "dailytraffic %.6g/%.6g/%.6g/s (open model)", l.min, l.mid, l.max);
      return buf;
    case config::LoadModelKind::kStages:
      snprintf(buf, sizeof buf, "stages x%zu (open model)", l.stages.size());
      return buf;
  }
  return "?";
}

int RunPlan(const config::TestPlan& plan, const RunOutputOptions& out) {
  signal(SIGPIPE, SIG_IGN);
  auto engine = engine::Engine::Create(plan);
  if (!engine) return ReportError(engine.error(), "setup");
  // Only the last interval is read (progress); a short ring keeps memory flat on long runs
  // until an output that plots intervals needs more (with a sparse interval form).
  metrics::Collector collector(MonotonicNow(), /*max_intervals=*/16);
  output::ProgressPrinter printer(stderr, isatty(STDERR_FILENO) == 1);
  Result<engine::RunInfo> info;
  bool interrupted = false;
  {
    SignalGuard guard(**engine);
    const std::string bound = plan.max_requests
                                  ? "up to " + std::to_string(plan.max_requests) + " requests"
                                  : "for " + FormatDuration(plan.duration);
    fprintf(stderr, "volley: %s -> %s, %d connections, %s\n", DescribeLoad(plan).c_str(),
            TargetText(plan).c_str(), plan.workers, bound.c_str());
    info = (*engine)->Run(collector, [&](const engine::Progress& p) {
      if (out.quiet) return;
      printer.Update(output::ProgressFigures{p.elapsed, p.duration, p.interval_rps, p.requests,
                                             p.errors, p.p95_seconds, p.in_flight, p.stopping});
    });
    printer.Finish();
    interrupted = guard.interrupted();
  }
  if (!info) return ReportError(info.error(), "run");
  output::RunFacts facts;
  facts.elapsed = info->elapsed;
  facts.interrupted = info->interrupted;
  facts.abandoned = info->abandoned;
  facts.threads = info->threads;
  facts.connections = info->connections;
  facts.open_model = info->open_model;
  facts.target = TargetText(plan);
  facts.load_model = DescribeLoad(plan);
  const output::Summary summary = output::Summarize(collector.Cumulative(), facts);
  fputs(output::FormatReport(summary).c_str(), stdout);
  fflush(stdout);
  if (!out.summary_export.empty()) {
    std::ofstream file(out.summary_export);
    file << output::ToJson(summary).dump(2) << "\n";
    if (!file) {
      fprintf(stderr, "volley: cannot write the summary to %s\n", out.summary_export.c_str());
      return kExitRuntime;
    }
  }
  return interrupted ? kExitInterrupted : kExitOk;
}

}  // namespace volley::cli
