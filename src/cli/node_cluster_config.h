// CLUSTER_CONFIG_SOURCE on a `volley node` (issue 15): while this node coordinates and no
// run is active, it fetches the plan from its source (at once when it takes office, then
// every CLUSTER_CONFIG_POLL_SECS) and submits it through the run agent, once per plan
// version: the version is in the run's plan name (replicated in the log), so a coordinator
// elected later does not run the same version again. Thread-safe; one thread of its own.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "volley/cluster/config_source.h"

namespace volley::cli {

struct NodeCluster;

class ConfigSourceRunner {
 public:
  // `cluster` must outlive the runner (NodeCluster owns it and stops it first).
  ConfigSourceRunner(cluster::ConfigSourceOptions options, NodeCluster& cluster);
  ~ConfigSourceRunner() { Stop(); }
  void Stop();  // idempotent; joins the thread

  // /health/cluster's `config_source` object: source, state (waiting | fetching | submitted
  // | already_ran | error), last_error, version, run_id.
  std::string Json() const;

 private:
  void Loop();
  void Attempt();
  void Record(std::string state, std::string error, std::string version, std::string run_id);

  const cluster::ConfigSourceOptions options_;
  NodeCluster& cluster_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                     // guarded by mu_
  std::string state_ = "waiting";         // guarded by mu_
  std::string error_, version_, run_id_;  // guarded by mu_
  std::string refused_version_;           // guarded by mu_: its plan was invalid; not again
  std::thread thread_;                    // started last
};

}  // namespace volley::cli
