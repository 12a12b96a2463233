// The leader's aggregation of its nodes' metrics (DESIGN.md §5, issue 14). Every node sends
// its cumulative snapshot with a sequence number; the Aggregator keeps the newest batch
// per (run, node), so a lost, repeated or reordered batch changes nothing, and merges the
// kept snapshots exactly when asked (a scrape, a progress tick, the end), never per batch.
//
// The merged snapshot of a run (seed 000) holds every series twice:
// - per region: the series' labels plus `region` = the sending node's region, merged over
//   the nodes of that region. A series that already has a `region` label (a regional
//   pre-aggregator's, say) keeps it and gets no second one;
// - global: the series without any `region` label, merged over every node.
// Merging across nodes: counters add, rates add both counts, histograms add their buckets
// (exact: the global percentiles are those of the union of the nodes' samples, never an
// average of percentiles), gauges add their `last` values (VUs and requests in flight of
// the cluster are the sum of the nodes') and combine min, max, sum and count. A series
// whose type or histogram resolution differs between nodes keeps the first node's value
// (in node id order) and is counted in `cluster_merge_conflicts_total`.
// Beside them, unprefixed like every Snapshot name (outputs add the namespace):
//   cluster_node_degraded{node_id}               gauge, 1 while the node is degraded
//   cluster_node_degraded_seconds_total{node_id} counter, time it spent degraded
//   cluster_nodes_reporting                      gauge, nodes with a snapshot, not degraded
//   cluster_merge_conflicts_total                counter, see above
//
// Degraded: a node whose newest batch is older than `degraded_after` (and that has not
// sent its final batch) is degraded from last_seen + degraded_after on; its last snapshot
// still counts; the next newer batch makes it healthy again. Degraded time is computed
// from the given instants alone, so it is exact whenever it is asked.
//
// Time is injected: every call takes `now`, a steady-clock instant (Clock::Now()) that
// never goes back between calls.
//
// Thread-safe: every method may be called from any thread. Offer is O(1) under the lock
// (snapshots are shared immutable values); Merged copies pointers under the lock and
// merges outside it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/result.h"
#include "volley/metrics/snapshot.h"
#include "volley/wire/volley_metrics.h"

namespace volley::cluster {

struct AggregatorOptions {
  // CLUSTER_METRICS_TIMEOUT_SECS: silence after which a node is degraded (> 0).
  Nanos degraded_after = std::chrono::seconds(15);
};

// What the leader knows of one node of a run, for the report and the JSON summary.
struct NodeView {
  std::string node_id;
  std::string region;
  uint64_t seq = 0;         // of the newest batch kept
  bool final = false;       // its share has ended (the final batch came)
  bool degraded = false;    // at the instant asked
  Nanos degraded_total{0};  // all the time it spent degraded, up to the instant asked
  Nanos last_seen{0};       // when its newest batch was accepted (or restored)
  std::shared_ptr<const metrics::Snapshot> snapshot;  // never null
};

class Aggregator {
 public:
  explicit Aggregator(AggregatorOptions options = {});

  enum class OfferResult {
    kAccepted,  // newer than what was kept for (run, node): it replaces it
    kStale,     // seq not above the kept one (repeated or reordered): nothing changed
  };
  // Keeps `batch` if its seq is above the one kept for (batch.id.run_id, batch.id.node_id)
  // (or none is), and marks the node seen at `now`. REQUIRES: `batch` came through
  // wire::node::DecodeMetricsBatch (or is as valid). A node's region is that of its newest
  // batch.
  OfferResult Offer(wire::node::MetricsBatch batch, Nanos now);

  // The merged snapshot of `run_id` at `now` (see the top of this file); empty (but for
  // cluster_nodes_reporting 0 and no conflicts) when no node has reported.
  metrics::Snapshot Merged(const std::string& run_id, Nanos now) const;

  // Every node of `run_id`, by node id.
  std::vector<NodeView> Nodes(const std::string& run_id, Nanos now) const;

  // The run ids with at least one node, sorted.
  std::vector<std::string> Runs() const;

  // The compact bytes of the node's newest batch and its degraded time at `now`
  // (wire::node::NodeCheckpoint), for the Raft log. kNotFound if the node never reported
  // for that run.
  Result<std::string> Checkpoint(const std::string& run_id, const std::string& node_id,
                                 Nanos now) const;
  // Applies a checkpoint (a new leader reading the log): the node's batch is kept as an
  // Offer would keep it (only if newer than what is kept: nothing counted twice when the
  // node's live batches also arrive), seen at `now`, with the checkpoint's degraded time
  // as the base of its own. kProtocol if the bytes do not decode. Returns what Offer does.
  Result<OfferResult> RestoreCheckpoint(std::string_view bytes, Nanos now);

 private:
  struct Node {
    wire::node::BatchIdentity id;
    std::shared_ptr<const metrics::Snapshot> snapshot;
    Nanos last_seen{0};
    Nanos degraded_before{0};  // completed degraded periods (and a checkpoint's)
  };
  bool DegradedAt(const Node& node, Nanos now) const;
  Nanos DegradedTotal(const Node& node, Nanos now) const;
  OfferResult Keep(wire::node::MetricsBatch batch, Nanos now, Nanos degraded_base);

  // Immutable after construction.
  const AggregatorOptions options_;

  mutable std::mutex mu_;
  // Guarded by mu_: run id -> node id -> node.
  std::map<std::string, std::map<std::string, Node>, std::less<>> runs_;
};

}  // namespace volley::cluster
