// Who takes part in a cluster run, and when it starts (DESIGN.md §5, Cluster II): the
// coordinator's decisions over the plan's `cluster:` section and its view of the members.
// Pure functions of their arguments (times passed in, no clock read): RunAgent calls them
// with its injected clock, tests with chosen instants. Thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "volley/cluster/cluster_node.h"
#include "volley/cluster/run_state.h"
#include "volley/common/result.h"
#include "volley/config/test_plan.h"

namespace volley::cluster {

struct ParticipantChoice {
  // The members the plan's cluster.nodes allows (every member when it names none), spares
  // excluded, in node id order (the share order).
  std::vector<std::string> eligible;
  // Of those, the ready ones: this node (status.node_id) and the members heard from within
  // `lost_after`.
  std::vector<std::string> ready;
  // Members never heard from (named by their address: id and region unknown), which may
  // turn out to match cluster.nodes once they join.
  std::vector<std::string> unidentified;
};

// The choice over `status` (the coordinator's). kInvalidArgument, naming the members, when
// such a run could never start: cluster.nodes names an id that is not a member, or matches
// no member, or minNodes exceeds the members it allows (members not heard from yet count
// as possible matches for all three).
Result<ParticipantChoice> ChooseParticipants(const config::ClusterSection& section,
                                             const ClusterStatus& status,
                                             std::chrono::milliseconds lost_after);

// What the coordinator does with a planned run.
struct StartDecision {
  enum class Kind {
    kWait,   // fewer than minNodes ready, still within minNodesTimeout
    kStart,  // commit StartRun with `participants` (every ready node)
    kEnd,    // past minNodesTimeout: commit StopRun with `reason`; nothing started
  };
  Kind kind = Kind::kWait;
  std::vector<std::string> participants;
  std::string reason;  // kEnd: why; kWait: what it waits for
};

// For a run submitted at `submitted_unix` (0 = unknown: treated as long past), at
// `now_unix` (both on the coordinator's wall clock): start once minNodes are ready, end
// once minNodesTimeout has passed since the submit. The same rule holds for a coordinator
// elected after the submit, so a run left planned by a dead coordinator starts if its
// nodes are ready within its window, and otherwise ends with the reason.
StartDecision DecideStart(const config::ClusterSection& section, const ParticipantChoice& choice,
                          Nanos submitted_unix, Nanos now_unix);

// The participants of started run `run` the coordinator (`status.node_id`) declares lost at
// `now_unix`: those without an outcome that it has not heard from within `lost_after`
// (none heard at all: the start instant counts as the last contact). Never itself.
std::vector<std::string> SilentParticipants(const RunRecord& run, const ClusterStatus& status,
                                            Nanos now_unix, std::chrono::milliseconds lost_after);

}  // namespace volley::cluster
