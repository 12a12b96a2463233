// `volley node`: a long-running node with the control API of specs/standalone-compat.md
// (GET /ready, GET /health, POST /config, POST /stop) and the Prometheus endpoint. Without
// CLUSTER_ENABLED it is a standalone node that runs the tests posted to it.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "node_controller.h"
#include "volley/common/env.h"
#include "volley/common/listen_address.h"
#include "volley/common/signals.h"
#include "volley/config/env.h"
#include "volley/config/plan_yaml.h"
#include "volley/output/metrics_server.h"
#include "volley/output/prometheus.h"

namespace volley::cli {
namespace {

constexpr size_t kMaxPlanBytes = 1 << 20;

struct NodeFlags {
  std::string listen;   // CLUSTER_HEALTH_ADDR
  std::optional<std::string> metrics_addr;  // METRICS_ADDR
  std::string plan;     // optional: start this plan at once
};

// The JSON error body of the control API: {"error": "...", "problems": ["file:l:c: ..."]}.
std::string ErrorJson(const std::string& what, const std::string& problems) {
  nlohmann::json j;
  j["error"] = what;
  j["problems"] = nlohmann::json::array();
  size_t start = 0;
  while (start < problems.size()) {
    const size_t nl = problems.find('\n', start);
    j["problems"].push_back(problems.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return j.dump();
}

// Reads a plan from text (a POSTed body or a file), with the environment over it, as `run`.
Result<config::TestPlan> PlanFrom(const std::string& text, const std::string& name) {
  auto plan = config::ParsePlanYaml(text, name);
  if (!plan) return plan;
  if (auto r = config::ApplyEnv(config::ProcessEnv(), *plan); !r) return tl::unexpected(r.error());
  config::FillIdentity(*plan);
  return plan;
}

void Routes(httplib::Server& svr, NodeController& node) {
  svr.Get("/ready", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ready\n", "text/plain");
  });
  svr.Get("/health", [&node](const httplib::Request&, httplib::Response& res) {
    res.set_content(node.HealthJson(), "application/json");
  });
  svr.Post("/config", [&node](const httplib::Request& req, httplib::Response& res) {
    auto plan = PlanFrom(req.body, "config");
    Result<std::string> started =
        plan ? node.Start(std::move(*plan)) : tl::unexpected(plan.error());
    if (!started) {
      res.status = started.error().code == ErrorCode::kInvalidArgument ? 400 : 500;
      res.set_content(ErrorJson("the plan was refused; the running test is unchanged",
                                started.error().message),
                      "application/json");
      return;
    }
    res.set_content(nlohmann::json{{"status", "started"}, {"run_id", *started}}.dump(),
                    "application/json");
  });
  svr.Post("/stop", [&node](const httplib::Request&, httplib::Response& res) {
    const bool stopped = node.Stop();
    res.set_content(nlohmann::json{{"status", stopped ? "stopped" : "idle"}}.dump(),
                    "application/json");
  });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      res.set_content(ErrorJson("unknown endpoint: use GET /ready, GET /health, POST /config "
                                "(a YAML plan) or POST /stop",
                                ""),
                      "application/json");
    }
  });
}

}  // namespace

Runner RegisterNode(CLI::App& app) {
  auto f = std::make_shared<NodeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "node", "Run a long-lived node: control API, Prometheus endpoint, tests posted to it");
  cmd->add_option("-l,--listen", f->listen,
                  "Control API address (CLUSTER_HEALTH_ADDR, default 0.0.0.0:8080)");
  cmd->add_option("--metrics-addr", f->metrics_addr,
                  "Prometheus /metrics address (METRICS_ADDR, default 0.0.0.0:9090; '' = off)");
  cmd->add_option("plan", f->plan, "A YAML plan to start at once (optional)");
  cmd->footer(
      "\nControl API: GET /ready, GET /health (JSON: node_id, region, node_state, rps,\n"
      "error_rate_pct, workers, memory_mb, cpu_pct, time_remaining_secs), POST /config with\n"
      "a YAML plan (starts it, replacing the running test; a bad plan gets 400 with the\n"
      "problems of `volley validate` and the running test goes on), POST /stop.\n"
      "States: idle, running, standby (the last test ended; its metrics stay up).\n"
      "Example: curl --data-binary @plan.yaml http://127.0.0.1:8080/config\n");
  return [f]() -> int {
    ShutdownSignals signals;  // before any thread starts: every thread below inherits its mask
    const std::string listen =
        f->listen.empty() ? EnvOr(ProcessEnv(), "CLUSTER_HEALTH_ADDR", "0.0.0.0:8080") : f->listen;
    auto addr = ParseListenAddress(listen);
    if (!addr) return ReportError(addr.error(), "--listen");
    config::TestPlan identity;
    if (auto r = config::ApplyEnv(config::ProcessEnv(), identity); !r) {
      return ReportError(r.error(), "environment");
    }
    config::FillIdentity(identity);
    // A plan given on the command line is read and checked before any server starts: a
    // missing or invalid one is a configuration error (exit 2) with nothing to stop.
    std::optional<config::TestPlan> first_plan;
    if (!f->plan.empty()) {
      std::ifstream in(f->plan);
      std::stringstream text;
      text << in.rdbuf();
      auto plan = in ? PlanFrom(text.str(), f->plan)
                     : Result<config::TestPlan>(MakeError(ErrorCode::kInvalidArgument,
                                                          f->plan + ": cannot open the plan file"));
      if (!plan) return ReportError(plan.error(), "plan");
      first_plan = std::move(*plan);
    }
    NodeController node(identity.node_id, identity.region);
    std::unique_ptr<output::MetricsServer> metrics;
    const std::string metrics_addr =
        f->metrics_addr ? *f->metrics_addr : EnvOr(ProcessEnv(), "METRICS_ADDR", "0.0.0.0:9090");
    if (!metrics_addr.empty()) {
      output::ExpositionOptions options;
      options.ns = identity.metric_namespace;
      auto server = output::MetricsServer::Start(metrics_addr, [&node, options, identity] {
        output::ExpositionOptions o = options;
        o.const_labels = {
            {"node_id", identity.node_id}, {"region", identity.region}, {"run_id", node.run_id()}};
        return output::RenderPrometheus(node.Cumulative(), o);
      });
      if (!server) return ReportError(server.error(), "metrics endpoint");
      metrics = std::move(*server);
      fprintf(stderr, "volley node: Prometheus metrics on http://%s:%u/metrics\n",
              metrics->host().c_str(), metrics->port());
    }
    httplib::Server svr;
    svr.set_payload_max_length(kMaxPlanBytes);
    svr.set_read_timeout(10, 0);
    Routes(svr, node);
    int port = addr->port;
    if (port == 0) {
      port = svr.bind_to_any_port(addr->host);
    } else if (!svr.bind_to_port(addr->host, port)) {
      port = -1;
    }
    if (port <= 0) {
      return ReportError(Error{ErrorCode::kIo, "cannot listen on " + listen +
                                                   " (in use? pass --listen or "
                                                   "CLUSTER_HEALTH_ADDR with another port)"},
                         "control API");
    }
    std::atomic<bool> loop_done{false};
    std::thread server_thread([&svr, &loop_done] {
      svr.listen_after_bind();
      loop_done.store(true);
    });
    // stop() before the accept loop runs is lost (httplib) and join() would hang: wait for it.
    while (!svr.is_running() && !loop_done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    fprintf(stderr, "volley node: %s (region %s) control API on http://%s:%d\n",
            identity.node_id.c_str(), identity.region.c_str(), addr->host.c_str(), port);
    if (first_plan) {
      Result<std::string> started = node.Start(std::move(*first_plan));
      if (!started) {
        svr.stop();
        server_thread.join();
        return ReportError(started.error(), "plan");
      }
    }
    signals.Wait();  // a second Ctrl-C during the stop exits at once
    fprintf(stderr, "volley node: stopping\n");
    svr.stop();
    server_thread.join();
    node.Stop();
    if (metrics) metrics->Stop();
    return kExitOk;
  };
}

}  // namespace volley::cli
