// The leader's side of Cluster III (issue 14, DESIGN.md §5): the batches nodes stream to it
// (StreamMetrics), the checkpoints every node applies from the Raft log (entry type 257),
// and what the leader serves from them (the merged /metrics, GET /cluster/live). Pure: no
// I/O but a log line per refused batch, no threads; the cli's node wires it to the
// ClusterNode and proposes the checkpoints it says are due.
//
// Checkpoints (wire::node::NodeCheckpoint bytes, committed as entries of
// kCheckpointEntryType): the leader commits a node's newest snapshot when the node becomes
// degraded (silent: it may be dead), when its final batch came (end of its share), and its
// own snapshot on every flush (the leader's batches reach no other node). Every node applies
// them into its Aggregator with RestoreCheckpoint (kept only if newer than what it holds,
// so nothing counts twice), and keeps the newest per (run, node) in its Raft snapshot
// state, so a new leader counts them all.
//
// Thread-safe: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "volley/cluster/aggregator.h"
#include "volley/common/clock.h"
#include "volley/common/result.h"
#include "volley/metrics/snapshot.h"
#include "volley/wire/volley_metrics.h"

namespace volley::cluster {

inline constexpr uint16_t kCheckpointEntryType = 257;  // payload: EncodeNodeCheckpoint

struct LeaderMetricsOptions {
  AggregatorOptions aggregator;  // CLUSTER_METRICS_TIMEOUT_SECS
  wire::node::Limits limits;
  // A due checkpoint whose proposal has not been applied is proposed again after this.
  Nanos repropose_after = std::chrono::seconds(5);
};

class LeaderMetrics {
 public:
  explicit LeaderMetrics(LeaderMetricsOptions options = {});

  // A StreamMetrics frame from `caller`: decoded with the hardened decoder (kProtocol with
  // the reason, logged and counted in refused(); nothing kept) and offered. A batch whose
  // node id is not the caller's is refused too (a node speaks for itself only).
  Result<Aggregator::OfferResult> OnBatch(const std::string& caller, std::string_view bytes,
                                          Nanos now);

  // An applied entry of kCheckpointEntryType (any node, Raft thread). A payload that does
  // not decode is logged and ignored.
  void ApplyCheckpoint(std::string_view payload, Nanos now);

  // The checkpoints to propose now (leader only), each once until applied or
  // repropose_after passed: degraded or final nodes whose newest seq is not committed, and
  // `self`'s newest batch.
  std::vector<std::string> DueCheckpoints(const std::string& self, Nanos now);

  // Raft snapshot state: the newest applied checkpoint per (run, node) of the 8 newest
  // runs (older runs' checkpoints are dropped when a ninth begins), and its restore.
  std::string State() const;
  Result<void> Restore(std::string_view state, Nanos now);

  // RunAgentOptions::last_checkpoint: the node's newest snapshot known here.
  std::optional<std::string> LastCheckpoint(const std::string& run_id, const std::string& node_id,
                                            Nanos now) const;

  // The run of the newest batch or checkpoint that introduced a run ("" = none yet).
  std::string CurrentRun() const;
  metrics::Snapshot Merged(const std::string& run_id, Nanos now) const {
    return aggregator_.Merged(run_id, now);
  }
  std::vector<NodeView> Nodes(const std::string& run_id, Nanos now) const {
    return aggregator_.Nodes(run_id, now);
  }
  uint64_t refused() const;

  // GET /cluster/live (contracts §4) of the current run: run_id, leader_id, requests,
  // errors, rps (requests over the time since the run's first batch here), p50/p95/p99_ms
  // from the merged global latency histogram, reporting_nodes, degraded [node ids].
  // kNotFound when no node reported.
  Result<std::string> LiveJson(const std::string& leader_id, Nanos now) const;

 private:
  using Key = std::pair<std::string, std::string>;     // run id, node id
  void NoteRun(const std::string& run_id, Nanos now);  // REQUIRES: mu_ held

  const LeaderMetricsOptions options_;
  Aggregator aggregator_;

  mutable std::mutex mu_;
  std::string current_run_;                 // guarded by mu_
  std::map<std::string, Nanos> run_first_;  // guarded by mu_: first batch seen per run
  std::map<Key, std::pair<uint64_t, std::string>> applied_;  // guarded: seq, bytes
  std::map<Key, std::pair<uint64_t, Nanos>> proposed_;       // guarded: seq, when
  uint64_t refused_ = 0;                                     // guarded by mu_
};

}  // namespace volley::cluster
