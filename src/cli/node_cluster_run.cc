// Cluster runs on a `volley node` (issue 13): the run agent wired to the NodeController, and
// the control API's /cluster/* routes.
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

Result<std::chrono::milliseconds> MillisFromEnv(const EnvLookup& env, const char* name,
                                                std::chrono::milliseconds fallback) {
  const char* v = env(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  const long long ms = std::strtoll(v, &end, 10);
  if (end == v || *end != '\0' || ms < 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(name) + ": expected milliseconds (e.g. 2000), got '" + v + "'");
  }
  return std::chrono::milliseconds(ms);
}

// The plan as `volley run` checks it: YAML, environment, then every check of CheckPlan.
Result<config::TestPlan> ParseClusterPlan(const std::string& yaml, const std::string& name) {
  auto plan = NodePlanFrom(yaml, name);
  if (!plan) return plan;
  if (auto r = plan::CheckPlan(*plan); !r) return tl::unexpected(r.error());
  return plan;
}

void Json(http::Response& res, int status, std::string body) {
  res.status = status;
  res.content_type = "application/json";
  res.body = std::move(body);
}

}  // namespace

Result<void> ControllerExecutor::StartShare(config::TestPlan share, Nanos start_local,
                                            std::function<void(Result<std::string>)> done) {
  auto started = node_.StartAt(std::move(share), start_local, std::move(done));
  if (!started) return tl::unexpected(started.error());
  return {};
}

void ControllerExecutor::StopShare(const std::string& run_id) {
  if (node_.run_id() == run_id) node_.Stop();
}

Result<std::unique_ptr<NodeCluster>> StartNodeCluster(
    std::optional<cluster::ClusterOptions> options, NodeController& controller) {
  if (!options) return std::unique_ptr<NodeCluster>();
  const EnvLookup env = ProcessEnv();
  cluster::RunAgentOptions run;
  run.node_id = options->node_id;
  run.data_dir = options->data_dir;
  run.parse = &ParseClusterPlan;
  auto delay = MillisFromEnv(env, "CLUSTER_START_DELAY", run.start_delay);
  if (!delay) return tl::unexpected(delay.error());
  run.start_delay = *delay;
  auto lost = MillisFromEnv(env, "CLUSTER_LOST_AFTER", run.lost_after);
  if (!lost) return tl::unexpected(lost.error());
  run.lost_after = *lost;
  if (const char* d = env("CLUSTER_DISTRIBUTION"); d != nullptr && *d != '\0') {
    auto dist = config::ParseDistribution(d);
    if (!dist) return tl::unexpected(dist.error());
    run.distribution = *dist;
  }
  auto source = cluster::ConfigSourceFromEnv(env);
  if (!source) return tl::unexpected(source.error());
  auto out = std::make_unique<NodeCluster>();
  out->executor = std::make_unique<ControllerExecutor>(controller);
  out->agent = cluster::RunAgent::Create(std::move(run), *out->executor);
  if (options->discovery == "consul") {
    if (auto r = PrepareConsul(*out, std::move(*options)); !r) return tl::unexpected(r.error());
    // The member starts once its peers pass in Consul (ControlApiStarted).
  } else {
    auto node = cluster::ClusterNode::Start(std::move(*options), out->agent->Hooks());
    if (!node) return tl::unexpected(node.error());
    out->node = std::move(*node);
    out->agent->Attach(*out->node);
  }
  if (!source->kind.empty()) {
    out->config_source = std::make_unique<ConfigSourceRunner>(std::move(*source), *out);
  }
  return out;
}

void AddClusterRoutes(http::Router& router, NodeCluster& cluster) {
  router.Handle("GET", "/health/cluster", [&cluster](const http::Request&, http::Response& res) {
    res.content_type = "application/json";
    res.body = cluster.HealthJson();
  });
  router.Handle("GET", "/cluster/run", [&cluster](const http::Request&, http::Response& res) {
    Json(res, 200, cluster.agent->RunJson());
  });
  const http::RouteOptions waits{.max_body = kMaxPlanBytes, .blocking = true};
  router.Handle(
      "POST", "/cluster/config",
      [&cluster](const http::Request& req, http::Response& res) {
        auto run = cluster.agent->Submit(req.body, "POST /cluster/config");
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
