// Cluster runs on a `volley node` (issue 13): the run agent wired to the NodeController, and
// the control API's /cluster/* routes.
#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "control_api.h"
#include "node_cluster.h"
#include "node_cluster_config.h"
#include "volley/cluster/cluster_env.h"
#include "volley/cluster/config_source.h"
#include "volley/common/env.h"
#include "volley/config/plan_split.h"
#include "volley/plan/plan_check.h"

namespace volley::cli {
namespace {

constexpr size_t kMaxPlanBytes = 1 << 20;  // as POST /config

// The plan as `volley run` checks it: YAML, environment, then every check of CheckPlan.
Result<config::TestPlan> ParseClusterPlan(const std::string& yaml, const std::string& name) {
  auto plan = NodePlanFrom(yaml, name);
  if (!plan) return plan;
  if (auto r = plan::CheckPlan(*plan); !r) return tl::unexpected(r.error());
  return plan;
}

// The name positions in a refused plan's problems start with: the client's file name
// (X-Volley-Plan-Name, sent by `volley run --cluster`: at most 200 printable characters),
// else the route's.
std::string PlanName(const http::Request& req) {
  const std::string_view name = req.headers.Get("X-Volley-Plan-Name");
  const bool printable =
      std::all_of(name.begin(), name.end(), [](char c) { return c >= 0x20 && c != 0x7f; });
  if (name.empty() || name.size() > 200 || !printable) return "POST /cluster/config";
  return std::string(name);
}

void Json(http::Response& res, int status, std::string body) {
  res.status = status;
  res.content_type = "application/json";
  res.body = std::move(body);
}

}  // namespace

Result<void> ControllerExecutor::StartShare(config::TestPlan share, Nanos start_local,
                                            std::function<void(Result<cluster::ShareEnd>)> done) {
  const std::string run_id = share.run_id;
  auto notify = on_share;
  if (notify) notify(run_id, false);
  auto on_end = [this, notify, run_id, done = std::move(done)](Result<std::string> summary) {
    if (notify) notify(run_id, true);
    if (!summary) return done(tl::unexpected(summary.error()));
    // The share's collector is still the controller's: nothing replaces it before on_end
    // returns (a new start joins this test's thread first).
    done(cluster::ShareEnd{std::move(*summary), node_.Cumulative()});
  };
  auto started = node_.StartAt(std::move(share), start_local, std::move(on_end));
  if (!started) {
    if (notify) notify(run_id, true);
    return tl::unexpected(started.error());
  }
  return {};
}

std::optional<metrics::Snapshot> ControllerExecutor::LiveSnapshot(const std::string& run_id) {
  if (node_.run_id() != run_id) return std::nullopt;
  return node_.Cumulative();
}

void ControllerExecutor::StopShare(const std::string& run_id) {
  if (node_.run_id() == run_id) node_.Stop();
}

Result<std::unique_ptr<cluster::ClusterNode>> StartMember(NodeCluster& cluster,
                                                          const cluster::ClusterOptions& options) {
  cluster::ClusterHooks hooks = cluster.agent->Hooks();
  cluster.metrics->Wrap(hooks);
  return cluster::ClusterNode::Start(options, std::move(hooks));
}

void AttachMember(NodeCluster& cluster, cluster::ClusterNode& node) {
  cluster.agent->Attach(node);
  cluster.metrics->Start(node);
}

Result<std::unique_ptr<NodeCluster>> StartNodeCluster(
    std::optional<cluster::ClusterOptions> options, NodeController& controller) {
  if (!options) return std::unique_ptr<NodeCluster>();
  const EnvLookup env = ProcessEnv();
  cluster::RunAgentOptions run;
  run.node_id = options->node_id;
  run.region = options->region;
  run.data_dir = options->data_dir;
  run.parse = &ParseClusterPlan;
  auto defaults = ClusterRunDefaultsFromEnv(env);  // checked by NodeClusterOptions already
  if (!defaults) return tl::unexpected(defaults.error());
  run.start_delay = defaults->start_delay;
  run.lost_after = defaults->lost_after;
  run.distribution = defaults->distribution;
  auto stream = ClusterMetricsOptionsFromEnv(env, options->node_id, options->region);
  if (!stream) return tl::unexpected(stream.error());
  auto source = cluster::ConfigSourceFromEnv(env);
  if (!source) return tl::unexpected(source.error());
  auto out = std::make_unique<NodeCluster>();
  // The coordinator prints the cluster's report on its stdout, as a node prints its own.
  run.on_ended = [cluster = out.get()](const cluster::RunRecord& ended) {
    cluster::ClusterNode* node = cluster->Node();
    if (node == nullptr || !node->Status().coordinator) return;
    PrintClusterReport(ended);
  };
  out->executor = std::make_unique<ControllerExecutor>(controller);
  out->metrics = std::make_unique<ClusterMetrics>(std::move(*stream), *out->executor);
  out->executor->on_share = [m = out->metrics.get()](const std::string& id, bool ended) {
    ended ? m->ShareEnded(id) : m->ShareStarted(id);
  };
  run.last_checkpoint = [m = out->metrics.get()](const std::string& id, const std::string& node) {
    return m->LastCheckpoint(id, node);
  };
  out->agent = cluster::RunAgent::Create(std::move(run), *out->executor);
  if (options->discovery == "consul") {
    if (auto r = PrepareConsul(*out, std::move(*options)); !r) return tl::unexpected(r.error());
    // The member starts once its peers pass in Consul (ControlApiStarted).
  } else {
    auto node = StartMember(*out, *options);
    if (!node) return tl::unexpected(node.error());
    out->node = std::move(*node);
    AttachMember(*out, *out->node);  // after `node` is set: the agent's thread reads it
  }
  if (!source->kind.empty()) {
    out->config_source = std::make_unique<ConfigSourceRunner>(std::move(*source), *out);
  }
  return out;
}

void AddClusterRoutes(http::Router& router, NodeCluster& cluster) {
  AddClusterLiveRoute(router, *cluster.metrics);
  router.Handle("GET", "/health/cluster", [&cluster](const http::Request&, http::Response& res) {
    res.content_type = "application/json";
    res.body = cluster.HealthJson();
  });
  router.Handle("GET", "/cluster/run", [&cluster](const http::Request&, http::Response& res) {
    Json(res, 200, cluster.agent->RunJson());
  });
  AddClusterReportRoute(router, cluster);
  const http::RouteOptions waits{.max_body = kMaxPlanBytes, .blocking = true};
  router.Handle(
      "POST", "/cluster/config",
      [&cluster](const http::Request& req, http::Response& res) {
        auto run = cluster.agent->Submit(req.body, PlanName(req));
        if (!run) {
          const bool bad = run.error().code == ErrorCode::kInvalidArgument;
          return Json(res, bad ? 400 : 503,
                      ControlErrorJson(bad ? "the plan was refused; nothing started"
                                           : "the cluster could not take the plan",
                                       run.error().message));
        }
        Json(res, 200, nlohmann::json{{"status", "submitted"}, {"run_id", *run}}.dump());
      },
      waits);
  router.Handle(
      "POST", "/cluster/stop",
      [&cluster](const http::Request&, http::Response& res) {
        auto r = cluster.agent->Stop("POST /cluster/stop");
        if (!r) {
          return Json(res, r.error().code == ErrorCode::kInvalidArgument ? 409 : 503,
                      ControlErrorJson("no stop was committed", r.error().message));
        }
        Json(res, 200, nlohmann::json{{"status", "stopping"}}.dump());
      },
      waits);
}

}  // namespace volley::cli
