#include "node_cluster.h"

#include <algorithm>
#include <cstdio>

#include "volley/cluster/cluster_env.h"
#include "volley/common/problems.h"
#include "volley/config/env.h"

namespace volley::cli {

Result<std::optional<cluster::ClusterOptions>> NodeClusterOptions() {
  const config::EnvLookup env = config::ProcessEnv();
  auto enabled = cluster::ClusterEnabledFromEnv(env);
  if (!enabled) return tl::unexpected(enabled.error());
  if (!*enabled) return std::optional<cluster::ClusterOptions>();
  auto options = cluster::ClusterOptionsFromEnv(env);
  auto run = ClusterRunDefaultsFromEnv(env);
  if (!options && !run) {  // every problem at once, ValidateClusterOptions's too
    Problems problems;
    problems.AddAll(options.error());
    problems.AddAll(run.error());
    return tl::unexpected(problems.ToError());
  }
  if (!options) return tl::unexpected(options.error());
  if (!run) return tl::unexpected(run.error());
  return std::optional<cluster::ClusterOptions>(std::move(*options));
}

std::string NodeClusterMetrics(const cluster::ClusterNode* node, const std::string& ns) {
  if (node == nullptr) return "";
  const cluster::ClusterStatus s = node->Status();
  const std::string p = ns.empty() ? "cluster_" : ns + "_cluster_";
  std::string out;
  auto line = [&](const std::string& text) { out += text + "\n"; };
  auto metric = [&](const std::string& name, const char* type, const char* help, uint64_t v) {
    line("# HELP " + p + name + " " + help);
    line("# TYPE " + p + name + " " + type);
    line(p + name + " " + std::to_string(v));
  };
  metric("term", "gauge", "Current Raft term.", s.term);
  metric("coordinator", "gauge", "1 while this node coordinates (leads with a committed entry).",
         s.coordinator ? 1 : 0);
  metric("ready", "gauge", "1 while the cluster is ready (cluster_ready).", s.cluster_ready);
  metric("members", "gauge", "Members of the Raft configuration.", s.peers);
  int64_t worst_gap_ms = 0;
  for (const auto& m : s.members) {
    if (m.max_silence) worst_gap_ms = std::max<int64_t>(worst_gap_ms, m.max_silence->count());
  }
  line("# HELP " + p + "max_silence_seconds Longest gap between two frames from any member.");
  line("# TYPE " + p + "max_silence_seconds gauge");
  line(p + "max_silence_seconds " + std::to_string(worst_gap_ms / 1000.0));
  metric("elections_total", "counter", "Elections this node started.", s.elections);
  metric("term_changes_total", "counter", "Raft term changes seen.", s.term_changes);
  metric("refused_peers_total", "counter", "Handshakes refused (token, version, unknown member).",
         s.refused_peers);
  return out;
}

std::string NodeClusterState(const cluster::ClusterNode* node) {
  return node == nullptr ? "standalone" : cluster::RoleName(node->Status().state);
}

std::string NodeClusterHelp() {
  return cluster::ClusterEnvHelp() +
         "\nCluster runs (one test across the nodes; token rules as POST /config):\n"
         "  POST /cluster/config  a YAML plan on any node; the leader validates it once (400 with\n"
         "                        positioned problems starts nothing), splits it among the live\n"
         "                        members and commits a start instant; answers the run id\n"
         "  GET /cluster/run      run id, phase, participants with shares and outcomes, offsets\n"
         "  POST /cluster/stop    stops the run on every participant\n"
         "  GET /cluster/report   the ended run's merged report (text + JSON summary, per region\n"
         "                        and node, lost nodes, thresholds, exit_code), the same on every\n"
         "                        node; 404 before any run, 409 while one is active\n"
         "  CLUSTER_START_DELAY   from the commit of the start to the start instant (2000 = ms,\n"
         "                        or 2s; default 2000); a plan's cluster.startDelay wins\n"
         "  CLUSTER_DISTRIBUTION  divide (default: the nodes' shares sum to the plan) | "
         "replicate;\n"
         "                        a plan's cluster.distribution wins\n"
         "  CLUSTER_LOST_AFTER    silence before a participant is declared lost (default 5000 "
         "ms);\n"
         "                        a lost node's share is not re-assigned\n"
         "  A plan's cluster: section also chooses who takes part (nodes: {regions, ids}) and\n"
         "  how many must be ready before the start (minNodes, minNodesTimeout); see README.\n"
         "\nCluster metrics (one result on the leader):\n"
         "  METRICS_FLUSH_INTERVAL_SECS   seconds between a node's metrics batches to the\n"
         "                                leader (default 5; fractions allowed, e.g. 0.5)\n"
         "  CLUSTER_METRICS_TIMEOUT_SECS  silence after which the leader marks a node degraded\n"
         "                                (default 15); its last snapshot still counts\n"
         "  GET /metrics (leader)         the merged run: per region with `region`, global\n"
         "                                without; followers serve their own view\n"
         "  GET /cluster/live             the leader's merged live figures (404: none yet)\n"
         "\nConsul discovery (DISCOVERY_MODE=consul; no CLUSTER_NODES needed):\n"
         "  CONSUL_ADDR              agent address (http://127.0.0.1:8500)\n"
         "  CONSUL_SERVICE_NAME      service to register and watch (loadtest-cluster)\n"
         "  CONSUL_HTTP_TOKEN        ACL token (X-Consul-Token); never logged\n"
         "  CONSUL_BOOTSTRAP_EXPECT  passing members (this one included) to wait for before a\n"
         "                           node with no Raft state bootstraps (3)\n"
         "  CONSUL_DEREGISTER_AFTER  DeregisterCriticalServiceAfter of the check (1m)\n"
         "\nPlan source of the coordinator (CLUSTER_CONFIG_SOURCE=file|consul-kv|gcs):\n"
         "  CLUSTER_CONFIG_FILE          file: the plan's path\n"
         "  CONSUL_CONFIG_KEY            consul-kv: the key (loadtest/config)\n"
         "  GCS_CONFIG_BUCKET/_OBJECT    gcs: where the plan is; token from\n"
         "                               GOOGLE_APPLICATION_CREDENTIALS (service-account key) or\n"
         "                               the metadata server (GCE_METADATA_HOST);\n"
         "                               STORAGE_EMULATOR_HOST: an emulator, no auth;\n"
         "                               GCS_API_ENDPOINT: another endpoint, auth kept\n"
         "  CLUSTER_CONFIG_TIMEOUT_SECS  per request (30)\n"
         "  CLUSTER_CONFIG_POLL_SECS     how often the coordinator looks for a new version\n"
         "                               while no run is active (10)\n";
}

}  // namespace volley::cli
