// `volley demo`: the zero-setup first run. Starts the built-in target in-process on a
// loopback port and runs a short closed-model test against it.
#include <pthread.h>

#include <cstdio>

#include "commands.h"
#include "volley/common/duration.h"
#include "volley/common/signals.h"
#include "volley/config/env.h"
#include "volley/target/options.h"
#include "volley/target/target_server.h"

namespace volley::cli {

Runner RegisterDemo(CLI::App& app) {
  struct DemoFlags {
    std::string duration = "10s";
    int connections = 50;
    std::string summary_export;
  };
  auto f = std::make_shared<DemoFlags>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "Run a short test against a built-in target on 127.0.0.1 (no setup needed)");
  cmd->add_option("-d,--duration", f->duration, "Test length")->capture_default_str();
  cmd->add_option("-c,--connections", f->connections, "Concurrent users")->capture_default_str();
  cmd->add_option("--summary-export", f->summary_export, "Write the summary as JSON here");
  return [f]() -> int {
    target::TargetOptions target;
    target.listen = "127.0.0.1:0";
    target.threads = 1;
    target.status_mix = {{200, 98}, {503, 2}};
    // The target's threads inherit the blocked mask: Ctrl-C must reach RunPlan's watcher,
    // not kill the process from a target thread where SIGINT is not blocked.
    const sigset_t old_mask = BlockShutdownSignals();
    auto server = target::TargetServer::Start(target);
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    if (!server) return ReportError(server.error(), "demo target");
    config::TestPlan plan;
    auto url = config::ParseUrl("http://127.0.0.1:" + std::to_string((*server)->port()) + "/");
    plan.target = *url;
    plan.workers = f->connections;
    plan.metrics_addr = "127.0.0.1:0";  // any free port: the demo must not clash with anything
    config::FillIdentity(plan);
    if (auto d = ParseDuration(f->duration); d) {
      plan.duration = *d;
    } else {
      return ReportError(d.error(), "--duration");
    }
    if (auto v = config::Validate(plan); !v) return ReportError(v.error(), "demo");
    fprintf(stderr,
            "volley demo: built-in target on 127.0.0.1:%u (2%% of responses are 503, to show "
            "error accounting)\n",
            (*server)->port());
    RunOutputOptions out;
    out.summary_export = f->summary_export;
    const int code = RunPlan(plan, out);
    (*server)->Stop();
    printf("\ntarget saw: %s\n", (*server)->StatsJson().c_str());
    return code;
  };
}

}  // namespace volley::cli
