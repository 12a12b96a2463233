// libraft on a loop thread of its own (DESIGN.md §5): durable state in the data directory,
// the static bootstrap configuration, the FSM that applies volley's entries (entry.h), a
// short poll of Raft's state (libraft 0.15 has no state callback), coordinator gating (a
// leader coordinates only once an entry of its own term is committed) and the
// coordinator's membership decisions (membership.h), each committed through the log.
//
// Thread-safe: public methods may be called from any thread; everything Raft touches runs
// on the loop thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "membership.h"
#include "tunnel_hub.h"
#include "volley/cluster/cluster_node.h"

namespace volley::cluster {

class RaftHost {
 public:
  struct Options {
    ClusterOptions cluster;                 // timeouts, data_dir, voters, min_peers
    std::vector<MemberSpec> configuration;  // InitialConfiguration(nodes, voters)
    PeerIdentity self;
    ClusterHooks hooks;  // apply, snapshot, restore (submit is the node's)
  };

  // Creates the data directory, loads the log (a restarted node keeps its state;
  // RAFT_CANTBOOTSTRAP is the normal answer then), starts Raft and its thread. `hub` must
  // outlive the host; its accept handler is set here. kIo naming the directory or Raft's
  // own message on failure.
  static Result<std::unique_ptr<RaftHost>> Start(Options options, TunnelHub& hub);
  virtual ~RaftHost() = default;  // REQUIRES: Stop() was called

  virtual ClusterStatus Status() const = 0;

  // Commits `payload` as an entry of `type` (>= kFirstUserType) if this node is the
  // coordinator; `done` runs on the Raft thread with the entry's index or the reason (not
  // the coordinator, Raft refused, leadership lost before commit). It must not block.
  virtual void Propose(uint16_t type, std::string payload,
                       std::function<void(Result<uint64_t>)> done) = 0;

  // Called on the Raft thread for every applied entry of a user type, in log order, on
  // every node. Set it before entries matter (entries applied before are not replayed).
  virtual void SetApplyObserver(
      std::function<void(uint16_t type, std::string_view payload, uint64_t index)> fn) = 0;

  // Closes Raft (its state stays on disk) and joins the thread. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace volley::cluster
