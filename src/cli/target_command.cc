// `volley target`: the built-in HTTP target server.
#include <cstdio>

#include "commands.h"
#include "volley/common/duration.h"
#include "volley/common/problems.h"
#include "volley/common/signals.h"
#include "volley/target/options.h"
#include "volley/target/target_server.h"

namespace volley::cli {
namespace {

struct TargetFlags {
  std::string listen = "127.0.0.1:8080";
  int threads = 0;
  std::string latency, status_mix, stall;
  std::string body_size = "13";
  std::string body;
};

Result<target::TargetOptions> BuildOptions(const TargetFlags& f) {
  target::TargetOptions o;
  o.listen = f.listen;
  o.threads = f.threads;
  Problems problems;
  auto note = [&](const char* flag, const Error& e) { problems.Add(flag, e.message); };
  if (!f.latency.empty()) {
    auto l = target::ParseLatency(f.latency);
    if (l) {
      o.latency_min = l->min;
      o.latency_max = l->max;
    } else {
      note("--latency", l.error());
    }
  }
  if (!f.status_mix.empty()) {
    auto m = target::ParseStatusMix(f.status_mix);
    m ? void(o.status_mix = *m) : note("--status-mix", m.error());
  }
  if (!f.stall.empty()) {
    auto s = target::ParseStall(f.stall);
    if (s) {
      o.stall_duration = s->duration;
      o.stall_period = s->period;
    } else {
      note("--stall", s.error());
    }
  }
  o.body = f.body;
  auto size = ParseSize(f.body_size);
  size ? void(o.body_size = static_cast<size_t>(*size)) : note("--body-size", size.error());
  if (!problems.empty()) return tl::unexpected(problems.ToError());
  if (auto v = target::ValidateTargetOptions(o); !v) return tl::unexpected(v.error());
  return o;
}

}  // namespace

Runner RegisterTarget(CLI::App& app) {
  auto f = std::make_shared<TargetFlags>();
  CLI::App* cmd = app.add_subcommand(
      "target", "Serve HTTP/1.1 for demos, tests and benchmarks (counts what it serves)");
  cmd->footer(
      "\nGET /__volley/stats returns what was served as JSON (printed on exit too);\n"
      "POST /__volley/reset zeroes the counters. Stops on Ctrl-C or SIGTERM.\n"
      "Example: volley target --listen 127.0.0.1:8080 --latency 10ms-30ms "
      "--status-mix 200:90,503:10 --stall 1s/5s\n");
  cmd->add_option("-l,--listen", f->listen, "Address to listen on, host:port (port 0: any)")
      ->capture_default_str();
  cmd->add_option("-t,--threads", f->threads, "Threads (default: one per core)");
  cmd->add_option("--latency", f->latency, "Added latency: fixed (20ms) or uniform (10ms-30ms)");
  cmd->add_option("--status-mix", f->status_mix, "Status codes by weight, e.g. 200:90,503:10");
  cmd->add_option("--stall", f->stall, "Stop answering for D every P, e.g. 1s/5s");
  cmd->add_option("--body-size", f->body_size, "Response body size in bytes (4k, 1m ...)")
      ->capture_default_str();
  cmd->add_option("--body", f->body,
                  "A fixed response body instead, e.g. '{\"id\":7}' (served as JSON when it "
                  "starts with { or [)");
  return [f]() -> int {
    auto options = BuildOptions(*f);
    if (!options) return ReportError(options.error(), "target");
    ShutdownSignals signals;  // before the server's threads start: they inherit its mask
    auto server = target::TargetServer::Start(*options);
    if (!server) return ReportError(server.error(), "target");
    fprintf(stderr, "volley target: listening on %s:%u with %d threads (Ctrl-C to stop)\n",
            (*server)->host().c_str(), (*server)->port(), (*server)->threads());
    signals.Wait();  // a second Ctrl-C during the stop exits at once
    (*server)->Stop();
    printf("%s\n", (*server)->StatsJson().c_str());
    return kExitOk;
  };
}

}  // namespace volley::cli
