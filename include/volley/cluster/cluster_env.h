// The CLUSTER_* environment of `volley node` (seed 002's reference plus what a deployment
// needs), parsed into ClusterOptions. Thread-safe (pure functions of the lookup).
#pragma once

#include <string>

#include "volley/cluster/cluster_node.h"
#include "volley/config/env.h"

namespace volley::cluster {

// CLUSTER_ENABLED (default false). kInvalidArgument when it is not a boolean.
Result<bool> ClusterEnabledFromEnv(const config::EnvLookup& env);

// Every CLUSTER_* variable (and DISCOVERY_MODE) over the defaults of ClusterOptions. All
// problems are reported at once, one line each, named by variable ("CLUSTER_VOTERS: ...").
// The options are checked as a whole too (ValidateClusterOptions).
Result<ClusterOptions> ClusterOptionsFromEnv(const config::EnvLookup& env);

// Checks options however they were made (Start calls it): the node's own address among
// `nodes`, timeouts that leave room (election > 2 × heartbeat), and security: binding a
// non-loopback address needs a token or mTLS unless `insecure`. Every problem at once.
Result<void> ValidateClusterOptions(const ClusterOptions& options);

// The effective address other nodes reach this one at (CLUSTER_SELF_ADDR, else the bind
// address when it is not a wildcard, else hostname:port), normalized.
Result<std::string> SelfAddress(const ClusterOptions& options);

// The variables and their meaning, for `volley node --help`.
std::string ClusterEnvHelp();

}  // namespace volley::cluster
