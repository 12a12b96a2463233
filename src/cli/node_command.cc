// `volley node`: a long-running node with the control API of specs/standalone-compat.md
// (GET /ready, GET /health, POST /config, POST /stop) and the Prometheus endpoint. Without
// CLUSTER_ENABLED it is a standalone node that runs the tests posted to it.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "control_api.h"
#include "node_cluster.h"
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

struct NodeFlags {
  std::string listen;                       // CLUSTER_HEALTH_ADDR
  std::optional<std::string> metrics_addr;  // METRICS_ADDR
  std::string plan;                         // optional: start this plan at once
};

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
      "States: idle, running, standby (the last test ended; its metrics stay up; with the\n"
      "plan's `standby: {workers, rps}`, that many connections to its base URL stay open,\n"
      "sending GET at rps, 0 = none, until the next plan or POST /stop).\n"
      "Access: POST /config and /stop need Authorization: Bearer $VOLLEY_API_TOKEN when\n"
      "VOLLEY_API_TOKEN is set; without a token the node only listens on loopback unless\n"
      "VOLLEY_INSECURE=true. GET endpoints stay open (health checks, Prometheus).\n"
      "Example: curl -H \"Authorization: Bearer $VOLLEY_API_TOKEN\" \\\n"
      "           --data-binary @plan.yaml http://127.0.0.1:8080/config\n" +
      NodeClusterHelp());
  return [f]() -> int {
    ShutdownSignals signals;  // before any thread starts: every thread below inherits its mask
    const EnvLookup env = ProcessEnv();
    const std::string listen =
        f->listen.empty() ? EnvOr(env, "CLUSTER_HEALTH_ADDR", "0.0.0.0:8080") : f->listen;
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
      auto plan = in ? NodePlanFrom(text.str(), f->plan)
                     : Result<config::TestPlan>(MakeError(ErrorCode::kInvalidArgument,
                                                          f->plan + ": cannot open the plan file"));
      if (!plan) return ReportError(plan.error(), "plan");
      first_plan = std::move(*plan);
    }
    auto cluster_options = NodeClusterOptions();  // nullopt unless CLUSTER_ENABLED=true
    if (!cluster_options) return ReportError(cluster_options.error(), "cluster");
    ControlApiOptions api;
    api.token = EnvOr(env, "VOLLEY_API_TOKEN", "");
    if (*cluster_options) api.cluster_token = (*cluster_options)->token;
    if (auto exposed = CheckExposure(*addr, api.token.empty() ? api.cluster_token : api.token,
                                     EnvOr(env, "VOLLEY_INSECURE", "") == "true");
        !exposed) {
      return ReportError(exposed.error(), "control API");
    }
    NodeController node(identity.node_id, identity.region);
    // nullptr if standalone
    auto cluster = StartNodeCluster(std::move(*cluster_options), node);
    if (!cluster) return ReportError(cluster.error(), "cluster");
    if (*cluster) {
      api.extra_routes = [&cluster](http::Router& router) { AddClusterRoutes(router, **cluster); };
    }
    auto cluster_node = [&cluster]() -> const cluster::ClusterNode* {
      return *cluster ? (*cluster)->Node() : nullptr;
    };
    std::unique_ptr<output::MetricsServer> metrics;
    const std::string metrics_addr =
        f->metrics_addr ? *f->metrics_addr : EnvOr(env, "METRICS_ADDR", "0.0.0.0:9090");
    if (!metrics_addr.empty()) {
      output::ExpositionOptions options;
      options.ns = identity.metric_namespace;
      auto server = output::MetricsServer::Start(metrics_addr, [&node, &cluster, cluster_node,
                                                                options, identity] {
        output::ExpositionOptions o = options;
        o.const_labels = {
            {"node_id", identity.node_id}, {"region", identity.region}, {"run_id", node.run_id()}};
        if (const std::string tenant = node.tenant(); !tenant.empty()) {
          o.const_labels.emplace_back("tenant", tenant);
        }
        o.node_state = NodeClusterState(cluster_node());
        // The leader serves the merged run (issue 14); followers their own view.
        if (*cluster) {
          if (auto merged = (*cluster)->metrics->RenderLeader(options)) {
            // Its own cluster_node_info (the only series an empty snapshot renders).
            return *merged + output::RenderPrometheus(metrics::Snapshot{}, o) +
                   NodeClusterMetrics(cluster_node(), options.ns);
          }
        }
        return output::RenderPrometheus(node.Cumulative(), o) +
               NodeClusterMetrics(cluster_node(), options.ns);
      });
      if (!server) return ReportError(server.error(), "metrics endpoint");
      metrics = std::move(*server);
      fprintf(stderr, "volley node: Prometheus metrics on http://%s:%u/metrics\n",
              metrics->host().c_str(), metrics->port());
    }
    const bool token_required = !api.token.empty();
    auto control = StartControlApi(*addr, node, std::move(api));
    if (!control) return ReportError(control.error(), "control API");
    fprintf(stderr, "volley node: %s (region %s) control API on http://%s:%u%s\n",
            identity.node_id.c_str(), identity.region.c_str(), addr->host.c_str(),
            (*control)->port(), token_required ? " (token required to change it)" : "");
    if (*cluster) (*cluster)->ControlApiStarted(addr->host, (*control)->port());
    if (first_plan) {
      Result<std::string> started = node.Start(std::move(*first_plan));
      if (!started) {
        (*control)->Stop();
        return ReportError(started.error(), "plan");
      }
    }
    signals.Wait();  // a second Ctrl-C during the stop exits at once
    fprintf(stderr, "volley node: stopping\n");
    (*control)->Stop();
    node.Stop();
    if (metrics) metrics->Stop();
    if (*cluster) (*cluster)->Stop();
    return kExitOk;
  };
}

}  // namespace volley::cli
