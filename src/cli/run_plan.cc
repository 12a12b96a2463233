// Running a plan: signals, progress, report, JSON export. Shared by `run` and `demo`.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>

#include "commands.h"
#include "run_support.h"
#include "volley/common/duration.h"
#include "volley/common/signals.h"
#include "volley/engine/engine.h"
#include "volley/metrics/collector.h"
#include "volley/output/metrics_server.h"
#include "volley/output/progress.h"
#include "volley/output/prometheus.h"
#include "volley/plan/plan_check.h"

namespace volley::cli {
namespace {

std::string TargetText(const config::TestPlan& plan) {
  return plan.target.scheme + "://" + plan.target.HostHeader() + plan.target.path;
}

// The Prometheus endpoint of a run, or nullptr when it is off (or, for the default address,
// could not bind: then a warning). An address the user chose that cannot bind is an error.
Result<std::unique_ptr<output::MetricsServer>> StartMetrics(const config::TestPlan& plan,
                                                            const metrics::Collector& collector) {
  if (plan.metrics_addr.empty()) return nullptr;
  output::ExpositionOptions options;
  options.ns = plan.metric_namespace;
  options.const_labels = {
      {"node_id", plan.node_id}, {"region", plan.region}, {"run_id", plan.run_id}};
  auto server = output::MetricsServer::Start(plan.metrics_addr, [&collector, options] {
    return output::RenderPrometheus(collector.Cumulative(), options);
  });
  if (server) {
    fprintf(stderr, "volley: Prometheus metrics on http://%s:%u/metrics\n",
            (*server)->host().c_str(), (*server)->port());
    return std::move(*server);
  }
  if (plan.metrics_addr_chosen) return tl::unexpected(server.error());
  fprintf(stderr, "volley: warning: no /metrics endpoint: %s\n", server.error().message.c_str());
  return nullptr;
}

}  // namespace

int ReportError(const Error& error, const char* context) {
  fprintf(stderr, "volley: %s error:\n", context);
  const std::vector<std::string> lines = ProblemLines(error);
  if (lines.empty()) fprintf(stderr, "  \n");
  for (const std::string& line : lines) fprintf(stderr, "  %s\n", line.c_str());
  return error.code == ErrorCode::kInvalidArgument ? kExitConfig : kExitRuntime;
}

output::Summary FinalSummary(const config::TestPlan& plan, const engine::RunInfo& info,
                             const metrics::Snapshot& snapshot,
                             const std::vector<metrics::CompiledThreshold>& thresholds) {
  output::RunFacts facts;
  facts.elapsed = info.elapsed;
  facts.interrupted = info.interrupted;
  facts.abandoned = info.abandoned;
  facts.threads = info.threads;
  facts.connections = info.connections;
  facts.open_model = info.open_model;
  facts.first_errors = info.first_errors;
  facts.target = TargetText(plan);
  facts.load_model = DescribeLoad(plan);
  facts.plan_order = PlanOrderOf(plan);
  output::Summary summary = output::Summarize(snapshot, facts);
  for (const auto& t : thresholds) {
    for (auto& r : metrics::Evaluate(t, snapshot, info.elapsed)) {
      summary.thresholds.push_back(std::move(r));
    }
  }
  return summary;
}

output::PlanOrder PlanOrderOf(const config::TestPlan& plan) {
  output::PlanOrder order;
  for (const config::Scenario& sc : plan.scenarios) {
    std::vector<std::string> steps;
    for (const config::Step& st : sc.steps) steps.push_back(st.name);
    order.emplace_back(sc.name, std::move(steps));
  }
  return order;
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
  BlockShutdownSignals();
  auto thresholds = plan::CompileThresholds(plan);
  if (!thresholds) return ReportError(thresholds.error(), "plan");
  auto engine = engine::Engine::Create(plan);
  if (!engine) return ReportError(engine.error(), "setup");
  // Outputs read the last intervals (progress, the cloud push a few seconds behind); a
  // short ring keeps memory flat on long runs.
  const Nanos collector_start = MonotonicNow();
  metrics::Collector collector(collector_start, /*max_intervals=*/64);
  output::OutputContext context;
  context.collector_start = collector_start;
  context.wall_start_unix_nanos =
      std::chrono::duration_cast<Nanos>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  context.run_id = plan.run_id;
  context.node_id = plan.node_id;
  context.region = plan.region;
  context.metric_namespace = plan.metric_namespace;
  auto outputs = plan::CreateOutputs(plan, context);
  if (!outputs) return ReportError(outputs.error(), "outputs");
  std::atomic<output::MetricsServer*> lingering{nullptr};
  // Ctrl-C / SIGTERM: the first stops the run and drains it (during the final linger, it
  // ends the linger); the second exits at once. Constructed before any other thread starts.
  ShutdownSignals::Options on_signal;
  on_signal.first_message =
      "\nvolley: stopping; draining requests in flight (Ctrl-C again to quit now)\n";
  on_signal.second_exit_code = kExitInterrupted;
  on_signal.on_first = [&] {
    (*engine)->RequestStop();
    if (output::MetricsServer* m = lingering.load()) m->Stop();
  };
  ShutdownSignals guard(std::move(on_signal));
  auto metrics_server = StartMetrics(plan, collector);
  if (!metrics_server) return ReportError(metrics_server.error(), "metrics endpoint");
  OutputSet pushes(std::move(*outputs));
  if (auto r = pushes.Start(collector); !r) return ReportError(r.error(), "outputs");
  std::vector<bool> abort_on_fail;
  std::vector<Nanos> delays;
  for (const config::Threshold& t : plan.thresholds) {
    abort_on_fail.push_back(t.abort_on_fail);
    delays.push_back(t.delay_abort_eval);
  }
  AbortWatch abort_watch(*thresholds, abort_on_fail, delays);
  output::ProgressPrinter printer(stderr, isatty(STDERR_FILENO) == 1);
  Result<engine::RunInfo> info;
  bool interrupted = false;
  {
    const std::string bound = plan.max_requests
                                  ? "up to " + std::to_string(plan.max_requests) + " requests"
                                  : "for " + FormatDuration(plan.duration);
    fprintf(stderr, "volley: %s -> %s, %d connections, %s\n", DescribeLoad(plan).c_str(),
            TargetText(plan).c_str(), plan.workers, bound.c_str());
    info = (*engine)->Run(collector, [&](const engine::Progress& p) {
      if (abort_watch.ShouldAbort(collector, p.elapsed) || pushes.WantsAbort()) {
        (*engine)->RequestStop();
      }
      if (out.quiet) return;
      printer.Update(output::ProgressFigures{p.elapsed, p.duration, p.interval_rps, p.requests,
                                             p.errors, p.p95_seconds, p.in_flight, p.stopping});
    });
    printer.Finish();
    interrupted = guard.interrupted();
  }
  pushes.Stop();
  if (!info) return ReportError(info.error(), "run");
  const output::Summary summary = FinalSummary(plan, *info, collector.Cumulative(), *thresholds);
  fputs(output::FormatReport(summary).c_str(), stdout);
  for (const std::string& line : pushes.ReportLines()) printf("%s\n", line.c_str());
  if (!abort_watch.reason().empty()) printf("%s\n", abort_watch.reason().c_str());
  fflush(stdout);
  if (!out.summary_export.empty()) {
    std::ofstream file(out.summary_export);
    file << output::ToJson(summary).dump(2) << "\n";
    file.close();  // a write error may only show at the flush
    if (!file) {
      fprintf(stderr, "volley: cannot write the summary to %s\n", out.summary_export.c_str());
      return kExitRuntime;
    }
  }
  if (*metrics_server && (*metrics_server)->scrapes() > 0 && !interrupted &&
      plan.metrics_linger > Nanos(0)) {
    // Someone is scraping: keep the final values up until they have been read once.
    const uint64_t seen = (*metrics_server)->scrapes();
    lingering.store(metrics_server->get());
    fprintf(stderr, "volley: waiting up to %s for a last scrape of /metrics\n",
            FormatDuration(plan.metrics_linger).c_str());
    (*metrics_server)->WaitForScrapeAfter(seen, plan.metrics_linger);
  }
  lingering.store(nullptr);
  if (interrupted || guard.interrupted()) return kExitInterrupted;
  return metrics::AnyFailed(summary.thresholds) ? kExitThresholds : kExitOk;
}

}  // namespace volley::cli
