// Cluster mode of `volley node` (CLUSTER_ENABLED=true): start-up from the environment,
// the node's cluster metrics, and the --help text. Kept apart from node_command.cc.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "volley/cluster/cluster_node.h"
#include "volley/common/result.h"

namespace volley::cli {

// The cluster member described by the CLUSTER_* environment, checked without opening any
// port, or nullopt when CLUSTER_ENABLED is not true. Every problem of the environment at
// once (kInvalidArgument).
Result<std::optional<cluster::ClusterOptions>> NodeClusterOptions();

// Starts the member of `options`, or returns nullptr for nullopt (then no cluster port is
// opened). Errors: why the port or the data directory failed.
Result<std::unique_ptr<cluster::ClusterNode>> StartNodeCluster(
    std::optional<cluster::ClusterOptions> options);

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
