// `volley run`: single-request mode from flags and environment (a YAML plan when given).
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>
#include <string>

#include "commands.h"
#include "run_cluster.h"
#include "volley/common/duration.h"
#include "volley/common/strings.h"
#include "volley/config/env.h"
#include "volley/config/plan_yaml.h"
#include "volley/output/cloud_output.h"
#include "volley/output/otlp_output.h"
#include "volley/output/prometheus_rw_output.h"
#include "volley/plan/plan_check.h"

namespace volley::cli {
namespace {

// Flag values as typed; parsed after CLI11 so that errors read like the environment's.
struct RunFlags {
  std::string plan;
  std::string url, method, body, json;
  std::vector<std::string> headers;
  std::optional<int> connections, threads;
  std::string duration, timeout, connect_timeout, grace;
  std::optional<uint64_t> max_requests, max_in_flight;
  std::string load_model, stages, ramp_duration, cycle;
  std::optional<double> rps, min_rps, max_rps, mid_rps;
  bool insecure = false;
  std::string cert, key, cacert, resolve;
  std::optional<std::string> metrics_addr;
  std::string metrics_linger;
  std::vector<std::string> outs;  // --out type[=url]
  RunOutputOptions out;
  std::string cluster;  // --cluster NODE[,NODE...]: run on a cluster (run_cluster.cc)
  std::string cluster_timeout;
};

std::string EnvHelp() {
  std::string text = "\nEnvironment (flags override it; it overrides a plan):\n";
  for (const auto& doc : config::EnvVarDocs()) {
    char line[256];
    snprintf(line, sizeof line, "  %-22s %s\n", doc.name, doc.meaning);
    text += line;
  }
  text +=
      "\nExit codes: 0 success, 1 runtime failure, 2 bad configuration, 99 a threshold "
      "failed,\n130 interrupted.\n"
      "Examples:\n"
      "  volley run --url http://127.0.0.1:8080/ -c 50 -d 30s\n"
      "  volley run --url http://127.0.0.1:8080/ --load-model rps --rps 2000 -c 100 -d 1m\n"
      "  TARGET_URL=http://127.0.0.1:8080/ TEST_DURATION=30s volley run\n";
  return text;
}

// Applies the flags that were given over `plan`; collects every problem.
Result<void> ApplyFlags(const RunFlags& f, config::TestPlan& plan) {
  std::string problems;
  auto note = [&](const char* flag, const Error& e) {
    if (!problems.empty()) problems += '\n';
    problems += std::string(flag) + ": " + e.message;
  };
  auto duration = [&](const char* flag, const std::string& text, Nanos& out) {
    if (text.empty()) return;
    auto d = ParseDuration(text);
    d ? void(out = *d) : note(flag, d.error());
  };
  if (!f.url.empty()) {
    auto u = config::ParseUrl(f.url);
    u ? void(plan.target = *u) : note("--url", u.error());
  }
  if (!f.method.empty()) {
    plan.request.method = ToUpper(f.method);
  }
  // Like every flag, -H overrides its variable (CUSTOM_HEADERS) and the plan's list.
  if (!f.headers.empty()) plan.custom_headers.clear();
  for (const auto& h : f.headers) {
    auto parsed = config::ParseHeaderList(h);
    if (!parsed) {
      note("--header", parsed.error());
      continue;
    }
    plan.custom_headers.insert(plan.custom_headers.end(), parsed->begin(), parsed->end());
  }
  if (!f.body.empty()) plan.request.body = f.body;
  if (!f.json.empty()) {
    plan.request.body = f.json;
    auto& h = plan.request.headers;  // SEND_JSON may have added one already
    std::erase_if(
        h, [](const config::Header& x) { return EqualsIgnoreCase(x.first, "Content-Type"); });
    h.emplace_back("Content-Type", "application/json");
  }
  if (f.connections) plan.workers = *f.connections;
  if (f.threads) plan.threads = *f.threads;
  duration("--duration", f.duration, plan.duration);
  duration("--timeout", f.timeout, plan.request_timeout);
  duration("--connect-timeout", f.connect_timeout, plan.connect_timeout);
  duration("--grace", f.grace, plan.grace_period);
  if (f.max_requests) plan.max_requests = *f.max_requests;
  if (f.max_in_flight) plan.load.max_in_flight = *f.max_in_flight;
  if (!f.load_model.empty()) {
    auto k = config::ParseLoadModelKind(f.load_model);
    k ? void(plan.load.kind = *k) : note("--load-model", k.error());
  }
  if (f.rps) {
    plan.load.target = *f.rps;
    // --rps alone means the fixed-rate model.
    if (f.load_model.empty()) plan.load.kind = config::LoadModelKind::kRps;
  }
  if (f.min_rps) plan.load.min = *f.min_rps;
  if (f.max_rps) plan.load.max = *f.max_rps;
  if (f.mid_rps) plan.load.mid = *f.mid_rps;
  duration("--ramp-duration", f.ramp_duration, plan.load.ramp_duration);
  duration("--cycle-duration", f.cycle, plan.load.cycle_duration);
  if (!f.stages.empty()) {
    auto s = config::ParseStages(f.stages);
    if (s) {
      plan.load.stages = *s;
      if (f.load_model.empty()) plan.load.kind = config::LoadModelKind::kStages;
    } else {
      note("--stages", s.error());
    }
  }
  if (f.insecure) plan.tls.skip_verify = true;
  if (!f.cert.empty()) plan.tls.client_cert_path = f.cert;
  if (!f.key.empty()) plan.tls.client_key_path = f.key;
  if (!f.cacert.empty()) plan.tls.ca_file = f.cacert;
  if (!f.resolve.empty()) {
    auto r = config::ParseResolve(f.resolve, plan);
    if (!r) note("--resolve", r.error());
  }
  if (f.metrics_addr) {
    plan.metrics_addr = *f.metrics_addr;
    plan.metrics_addr_chosen = true;
  }
  duration("--metrics-linger", f.metrics_linger, plan.metrics_linger);
  for (const std::string& o : f.outs) {
    config::OutputSpec spec;
    const size_t eq = o.find('=');
    spec.type = ToLower(o.substr(0, eq));
    if (eq != std::string::npos) spec.url = o.substr(eq + 1);
    spec.origin = "--out " + o;
    plan.outputs.push_back(std::move(spec));
  }
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems);
  return {};
}

// `volley run --cluster`: only the plan file travels; flags that change a plan are refused
// (the nodes read their own environment over it).
int RunClusterFlags(const RunFlags& f, const CLI::App& cmd) {
  std::string problems;
  for (const CLI::Option* o : cmd.get_options()) {
    const std::string name = o->get_name();
    if (o->count() == 0 || name == "plan" || name == "--cluster" || name == "--cluster-timeout" ||
        name == "--summary-export" || name == "--quiet" || name == "--help") {
      continue;
    }
    problems += (problems.empty() ? "" : "\n") + name +
                ": not with --cluster (the plan file is sent as it is; put it in the plan, or "
                "in the nodes' environment)";
  }
  ClusterRunOptions options;
  options.nodes = f.cluster;
  options.plan_path = f.plan;
  options.summary_export = f.out.summary_export;
  options.quiet = f.out.quiet;
  if (!f.cluster_timeout.empty()) {
    auto d = ParseDuration(f.cluster_timeout);
    if (d && *d > Nanos(0)) {
      options.unreachable_after = *d;
    } else {
      problems += (problems.empty() ? "" : "\n") + std::string("--cluster-timeout: expected a ") +
                  "duration such as 30s, got '" + f.cluster_timeout + "'";
    }
  }
  if (!problems.empty()) return ReportError(Error{ErrorCode::kInvalidArgument, problems}, "flags");
  return RunCluster(options);
}

}  // namespace

Runner RegisterRun(CLI::App& app) {
  auto f = std::make_shared<RunFlags>();
  CLI::App* cmd = app.add_subcommand("run", "Run a load test on this machine");
  cmd->footer(EnvHelp() + "\nOutput cloud (--out cloud=URL, or outputs: in a plan):\n" +
              output::CloudOutput::CloudEnvDocs() +
              "\nOutput otlp (--out otlp[=URL], or outputs: in a plan):\n" +
              output::OtlpOutput::OtlpEnvDocs() + "\n" + output::PrometheusRwOutput::EnvDocs());
  cmd->add_option("plan", f->plan,
                  "YAML test plan: config, load, scenarios, thresholds, outputs (optional: "
                  "flags and environment suffice for one request)");
  cmd->add_option("-u,--url", f->url, "Target URL (TARGET_URL)");
  cmd->add_option("-X,--method", f->method, "HTTP method (REQUEST_TYPE, default GET)");
  cmd->add_option("-H,--header", f->headers, "Header 'Name: value' (repeatable; CUSTOM_HEADERS)");
  cmd->add_option("--body", f->body, "Request body");
  cmd->add_option("--json", f->json, "JSON request body, sent with Content-Type: application/json");
  cmd->add_option("-c,--connections", f->connections,
                  "Concurrent users (closed model) or connection pool (open models) "
                  "(NUM_CONCURRENT_TASKS, default 10)");
  cmd->add_option("-t,--threads", f->threads, "Worker threads (default: one per core)");
  cmd->add_option("-d,--duration", f->duration, "Test length: 30s, 5m, 2h (TEST_DURATION)");
  cmd->add_option("-n,--max-requests", f->max_requests,
                  "Stop after this many requests (exact count; MAX_REQUESTS)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--timeout", f->timeout, "Per-request timeout (REQUEST_TIMEOUT, default 30s)");
  cmd->add_option("--connect-timeout", f->connect_timeout, "Connect+TLS timeout (default 10s)");
  cmd->add_option("--grace", f->grace,
                  "At the end or on Ctrl-C, wait this long for requests in flight (default 3s)");
  cmd->add_option("--load-model", f->load_model,
                  "concurrent | rps | ramp | dailytraffic | stages (LOAD_MODEL_TYPE)");
  cmd->add_option("--rps", f->rps, "Arrival rate of the rps model (TARGET_RPS); implies it");
  cmd->add_option("--min-rps", f->min_rps, "ramp / dailytraffic low rate");
  cmd->add_option("--max-rps", f->max_rps, "ramp / dailytraffic peak rate");
  cmd->add_option("--mid-rps", f->mid_rps, "dailytraffic afternoon rate");
  cmd->add_option("--ramp-duration", f->ramp_duration, "ramp length (default: the test)");
  cmd->add_option("--cycle-duration", f->cycle, "dailytraffic cycle length");
  cmd->add_option("--stages", f->stages,
                  "Arrival-rate stages 'duration:rate,...' (linear in between); implies stages");
  cmd->add_option("--max-in-flight", f->max_in_flight,
                  "Open models: most iterations queued or in flight; beyond it arrivals are "
                  "counted as dropped_iterations (default 10000)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("-k,--insecure", f->insecure, "Do not verify TLS certificates (SKIP_TLS_VERIFY)");
  cmd->add_option("--cert", f->cert, "Client certificate, PEM (CLIENT_CERT_PATH)");
  cmd->add_option("--key", f->key, "Client private key, PEM (CLIENT_KEY_PATH)");
  cmd->add_option("--cacert", f->cacert, "Extra trusted CA certificates, PEM");
  cmd->add_option("--resolve", f->resolve, "host:ip:port DNS override (RESOLVE_TARGET_ADDR)");
  cmd->add_option(
      "--metrics-addr", f->metrics_addr,
      "Prometheus /metrics on HOST:PORT (METRICS_ADDR, default 0.0.0.0:9090; '' = off)");
  cmd->add_option("--metrics-linger", f->metrics_linger,
                  "Keep /metrics up after the test until one scrape saw the final values, at "
                  "most this long, if anything scraped during the run (METRICS_LINGER, 5s)");
  cmd->add_option("-o,--out", f->outs,
                  "Push measurements while running: cloud=URL (k6 v2 protocol, e.g. to volley "
                  "ingest), otlp[=URL] (OpenTelemetry) or prometheus-rw[=URL] (Prometheus remote "
                  "write); repeatable")
      ->type_name("TYPE[=URL]");
  cmd->add_option("--summary-export", f->out.summary_export, "Write the summary as JSON here");
  cmd->add_flag("-q,--quiet", f->out.quiet, "No live progress line");
  cmd->add_option("--cluster", f->cluster,
                  "Run the plan on a cluster of `volley node`s: submit it to the first node "
                  "that answers (POST /cluster/config), show the run's progress, print the "
                  "merged report and exit with its code; the next address is used when a node "
                  "dies. Token: VOLLEY_API_TOKEN (or CLUSTER_TOKEN). Ctrl-C stops the whole "
                  "run (POST /cluster/stop) and waits up to 60s for its report")
      ->type_name("HOST:PORT[,HOST:PORT...]");
  cmd->add_option("--cluster-timeout", f->cluster_timeout,
                  "With --cluster: give up (exit 1) when no node has answered this long (30s)");
  return [f, cmd]() -> int {
    if (!f->cluster.empty()) return RunClusterFlags(*f, *cmd);
    config::TestPlan plan;
    if (!f->plan.empty()) {
      auto loaded = config::LoadPlanFile(f->plan);
      if (!loaded) return ReportError(loaded.error(), "plan");
      plan = std::move(*loaded);
    }
    if (auto r = config::ApplyEnv(config::ProcessEnv(), plan); !r) {
      return ReportError(r.error(), "environment");
    }
    if (auto r = ApplyFlags(*f, plan); !r) return ReportError(r.error(), "flags");
    config::FillIdentity(plan);
    if (auto r = plan::CheckPlan(plan); !r) return ReportError(r.error(), "configuration");
    return RunPlan(plan, f->out);
  };
}

}  // namespace volley::cli
