// Cluster mode of `volley node` (CLUSTER_ENABLED=true): start-up from the environment,
// the node's cluster metrics, and the --help text. Kept apart from node_command.cc.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "node_cluster_metrics.h"
#include "node_controller.h"
#include "volley/cluster/cluster_node.h"
#include "volley/cluster/run_agent.h"
#include "volley/common/env.h"
#include "volley/common/http_server.h"
#include "volley/common/result.h"
#include "volley/config/test_plan.h"

namespace volley::cli {

// The cluster member described by the CLUSTER_* environment, checked without opening any
// port, or nullopt when CLUSTER_ENABLED is not true. Every problem of the environment at
// once (kInvalidArgument), the run settings' (ClusterRunDefaultsFromEnv) included.
Result<std::optional<cluster::ClusterOptions>> NodeClusterOptions();

// A node's defaults for cluster runs, which a plan's `cluster:` section overrides.
struct ClusterRunDefaults {
  std::chrono::milliseconds start_delay{2000};                        // CLUSTER_START_DELAY
  std::chrono::milliseconds lost_after{5000};                         // CLUSTER_LOST_AFTER
  config::Distribution distribution = config::Distribution::kDivide;  // CLUSTER_DISTRIBUTION
};
// CLUSTER_START_DELAY (0..1h) and CLUSTER_LOST_AFTER (1ms..1h) as durations (a bare number
// is milliseconds), CLUSTER_DISTRIBUTION divide | replicate; unset or empty = the default.
// kInvalidArgument with one line per bad variable. Pure (node_cluster_settings.cc).
Result<ClusterRunDefaults> ClusterRunDefaultsFromEnv(const EnvLookup& env);

// A node's part in cluster runs (node_cluster_run.cc): runs its shares on the node's
// NodeController. Thread-safe.
class ControllerExecutor final : public cluster::RunExecutor {
 public:
  explicit ControllerExecutor(NodeController& node) : node_(node) {}  // node outlives it
  Result<void> StartShare(config::TestPlan share, Nanos start_local,
                          std::function<void(Result<cluster::ShareEnd>)> done) override;
  void StopShare(const std::string& run_id) override;
  std::optional<metrics::Snapshot> LiveSnapshot(const std::string& run_id) override;
  // Cluster III: told when a share starts (ended = false) and ends. Set before the agent
  // starts.
  std::function<void(const std::string& run_id, bool ended)> on_share;

 private:
  NodeController& node_;
};

// DISCOVERY_MODE=consul (node_cluster_consul.cc): the discovery and the member it starts
// once its peers pass.
struct ConsulBootstrap;
// CLUSTER_CONFIG_SOURCE (node_cluster_config.h): the coordinator's plan source.
class ConfigSourceRunner;

// The cluster member of a `volley node` and its run agent. Stop() detaches the agent, then
// stops the member. Thread-safe.
struct NodeCluster {
  std::unique_ptr<ClusterMetrics> metrics;  // declared first: the node's hooks call it
  std::unique_ptr<ControllerExecutor> executor;
  std::unique_ptr<cluster::RunAgent> agent;
  std::unique_ptr<cluster::ClusterNode> node;         // static discovery (set before serving)
  std::unique_ptr<ConsulBootstrap> consul;            // consul discovery, else nullptr
  std::unique_ptr<ConfigSourceRunner> config_source;  // CLUSTER_CONFIG_SOURCE, else nullptr

  // The member: `node`, or the one consul discovery started (nullptr until its peers
  // pass). Any thread.
  cluster::ClusterNode* Node() const;
  // Consul discovery starts once the control API serves /health/cluster at host:port (the
  // check's URL); a no-op for static discovery.
  void ControlApiStarted(const std::string& host, uint16_t port);
  // GET /health/cluster; with consul discovery, a `discovery` object too.
  std::string HealthJson() const;
  void Stop();
  NodeCluster();  // out of line: ConsulBootstrap is complete only there
  ~NodeCluster();
};

// Starts the member of `options` with the hooks of `cluster`'s run agent and metrics
// (static discovery at once; consul discovery once its peers pass).
Result<std::unique_ptr<cluster::ClusterNode>> StartMember(NodeCluster& cluster,
                                                          const cluster::ClusterOptions& options);
// Then attaches the run agent and the metrics sender to it, once NodeCluster::Node()
// returns it (their threads call Node()).
void AttachMember(NodeCluster& cluster, cluster::ClusterNode& node);

// Starts the member of `options` with its run agent on `controller` (which must outlive
// it), or returns nullptr for nullopt (then no cluster port is opened). Run settings from
// ClusterRunDefaultsFromEnv (NodeClusterOptions checked them already). Errors: why the port
// or the data directory failed.
Result<std::unique_ptr<NodeCluster>> StartNodeCluster(
    std::optional<cluster::ClusterOptions> options, NodeController& controller);

// StartNodeCluster's part for DISCOVERY_MODE=consul (node_cluster_consul.cc): reads the
// CONSUL_* variables and keeps `options` until ControlApiStarted. kInvalidArgument naming
// each bad variable.
Result<void> PrepareConsul(NodeCluster& cluster, cluster::ClusterOptions options);

// POST /cluster/config (a YAML plan: 200 {"run_id"} or 400 with "problems"), GET
// /cluster/run (RunAgent::RunJson), POST /cluster/stop, GET /cluster/report and GET
// /health/cluster.
void AddClusterRoutes(http::Router& router, NodeCluster& cluster);

// GET /cluster/report (node_cluster_report.cc): 404 before any run, 409 while the current
// one is active, 200 ClusterReportJson once it ended. Added by AddClusterRoutes.
void AddClusterReportRoute(http::Router& router, NodeCluster& cluster);

// Prints the report of the ended run `run` on stdout ("cluster report <id>" and its text).
void PrintClusterReport(const cluster::RunRecord& run);

// Prometheus text for /metrics: <ns>_cluster_term, _coordinator, _ready, _members and the
// counters of elections, term changes and refused peers. "" when `node` is null.
// Thread-safe.
std::string NodeClusterMetrics(const cluster::ClusterNode* node, const std::string& ns);

// The `state` label of <ns>_cluster_node_info: forming | follower | leader, or
// "standalone" when `node` is null. Thread-safe.
std::string NodeClusterState(const cluster::ClusterNode* node);

// The CLUSTER_* variables for `volley node --help`.
std::string NodeClusterHelp();

}  // namespace volley::cli
