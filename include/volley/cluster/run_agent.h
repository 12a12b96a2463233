// One test across the cluster's nodes (DESIGN.md §5, Cluster II): the glue between the Raft
// log (ClusterNode), the run state every node derives from it (run_state.h) and the test
// this node runs (a RunExecutor, the cli's NodeController).
//
// Every run command travels as one entry type (kRunEntryType) and is applied on every node.
// On the coordinator, a submitted plan is validated once, the live members become the
// participants, SubmitRun and then StartRun{leader wall clock now + start delay} are
// committed, and a participant silent past `lost_after` is declared lost. On every node, a
// StartRun it takes part in makes it measure its clock offset to the leader, map the start
// instant onto its steady clock and start its share (config::SharePlan) there; at the end
// of its share it commits NodeDone with its summary. A marker in the data directory keeps a
// restarted node from starting a run twice (it reports its share interrupted instead).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "volley/cluster/cluster_node.h"
#include "volley/cluster/run_state.h"
#include "volley/common/result.h"
#include "volley/config/test_plan.h"

namespace volley::cluster {

inline constexpr uint16_t kRunEntryType = 256;  // payload: EncodeRunCommand

// What runs a node's share. Implemented outside the cluster module (the cli's node).
class RunExecutor {
 public:
  virtual ~RunExecutor() = default;
  // Starts `share` when MonotonicNow() reaches `start_local` (at once if past); `done` is
  // called once, on any thread, with the share's final summary JSON when it ends (stopped
  // or not), or with the reason it could not run. Called on the agent's thread.
  virtual Result<void> StartShare(config::TestPlan share, Nanos start_local,
                                  std::function<void(Result<std::string> summary_json)> done) = 0;
  // Stops the share of `run_id` if it runs (its `done` still follows). Agent's thread.
  virtual void StopShare(const std::string& run_id) = 0;
};

struct RunAgentOptions {
  std::string node_id;   // this node's CLUSTER_NODE_ID
  std::string data_dir;  // CLUSTER_DATA_DIR: start markers live here
  // Parses and checks a plan as `volley run` would (positioned problems, kInvalidArgument).
  std::function<Result<config::TestPlan>(const std::string& yaml, const std::string& name)> parse;
  std::chrono::milliseconds start_delay{2000};  // CLUSTER_START_DELAY (ms)
  std::chrono::milliseconds lost_after{5000};   // a participant silent this long is lost
  config::Distribution distribution = config::Distribution::kDivide;  // CLUSTER_DISTRIBUTION
  int clock_samples = 8;
};

// Thread-safe: every method may be called from any thread. It runs a thread of its own for
// everything that blocks (proposals, clock samples, starting a share).
class RunAgent {
 public:
  // `executor` must outlive the agent.
  static std::unique_ptr<RunAgent> Create(RunAgentOptions options, RunExecutor& executor);
  virtual ~RunAgent() = default;  // Detach() first

  // The hooks to pass to ClusterNode::Start (they call into this agent).
  virtual ClusterHooks Hooks() = 0;
  // Starts acting through `node` (which must outlive the agent until Detach).
  virtual void Attach(ClusterNode& node) = 0;
  // Stops the agent's thread; the node is not used afterwards. Idempotent.
  virtual void Detach() = 0;

  // Submits a plan on any node (forwarded to the coordinator). The run id, or
  // kInvalidArgument with the positioned problems (then nothing starts anywhere), or kIo.
  virtual Result<std::string> Submit(const std::string& yaml, const std::string& name) = 0;
  // Commits a stop of the current run (any node). kInvalidArgument when none is active.
  virtual Result<void> Stop(const std::string& reason) = 0;
  // GET /cluster/run: {"run": null} before the first run, else run_id, phase, distribution,
  // start_unix_ms, participants [{node_id, share, outcome: running|done|lost, summary}],
  // and this node's own clock offset and uncertainty (ms) when it measured them.
  virtual std::string RunJson() const = 0;
};

}  // namespace volley::cluster
