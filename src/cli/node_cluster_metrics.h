// Cluster III on a `volley node` (issue 14): every taking-part node streams its share's
// cumulative metrics to the leader every METRICS_FLUSH_INTERVAL_SECS; the leader keeps
// them in a cluster::LeaderMetrics, commits the checkpoints it says are due (entry 257),
// and serves the merged run on /metrics and GET /cluster/live. cli internal.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "volley/cluster/cluster_node.h"
#include "volley/cluster/leader_metrics.h"
#include "volley/cluster/run_agent.h"
#include "volley/common/clock.h"
#include "volley/common/env.h"
#include "volley/common/http_server.h"
#include "volley/common/result.h"
#include "volley/output/prometheus.h"

namespace volley::cli {

struct ClusterMetricsOptions {
  std::string node_id, region;
  Nanos flush_interval = std::chrono::seconds(5);  // METRICS_FLUSH_INTERVAL_SECS
  Nanos timeout = std::chrono::seconds(15);        // CLUSTER_METRICS_TIMEOUT_SECS
};
// Both from the environment (seconds, fractions allowed, > 0); kInvalidArgument naming the
// variable and the value otherwise.
Result<ClusterMetricsOptions> ClusterMetricsOptionsFromEnv(const EnvLookup& env,
                                                           std::string node_id, std::string region);

// Thread-safe. Its sender thread runs from Start to Stop.
class ClusterMetrics {
 public:
  ClusterMetrics(ClusterMetricsOptions options, cluster::RunExecutor& executor);
  ~ClusterMetrics();  // Stop()s

  // Adds entry 257, the checkpoints' share of the Raft snapshot state, the StreamMetrics
  // receiver and the live view to `hooks` (the run agent's), keeping what they do.
  void Wrap(cluster::ClusterHooks& hooks);
  // For RunAgentOptions::last_checkpoint.
  std::optional<std::string> LastCheckpoint(const std::string& run_id, const std::string& node_id);

  // The share of `run_id` started here / ended (its final batch follows). Any thread.
  void ShareStarted(const std::string& run_id);
  void ShareEnded(const std::string& run_id);

  // Starts the sender thread on `node` (which outlives Stop). Stop is idempotent.
  void Start(cluster::ClusterNode& node);
  void Stop();

  // The leader's /metrics: the merged current run (per region with `region`, global
  // without) with `base`'s namespace and `run_id` as the only constant label; nullopt when
  // this node does not lead or no node reported.
  std::optional<std::string> RenderLeader(const output::ExpositionOptions& base) const;
  // GET /cluster/live's body here (a leader) or from the leader.
  Result<std::string> Live() const;

  const cluster::LeaderMetrics& leader() const { return leader_; }

 private:
  void Run();
  void SendOnce(bool* final_sent);

  const ClusterMetricsOptions options_;
  cluster::RunExecutor& executor_;
  cluster::LeaderMetrics leader_;
  cluster::ClusterNode* node_ = nullptr;  // set by Start, before the thread

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;        // guarded by mu_
  std::string run_;          // guarded by mu_: the share being streamed
  bool ended_ = false;       // guarded by mu_: its final batch is due
  Nanos final_deadline_{0};  // guarded by mu_
  uint64_t seq_ = 0;         // guarded by mu_
  std::thread thread_;
};

// GET /cluster/live (contracts §4): 200 with the leader's live view, 404 otherwise.
void AddClusterLiveRoute(http::Router& router, const ClusterMetrics& metrics);

}  // namespace volley::cli
