// When a node may act as coordinator (specs/cluster.md, pitfall 5): raft_state() ==
// LEADER is not enough — during a transfer or a partition two nodes can read LEADER. A node
// coordinates only after an entry it proposed in its current term is committed, and only
// while it still leads that term. Pure logic fed with observations of Raft, so it is
// unit-tested without Raft or time (coordinator_gate_test.cc).
//
// Not thread-safe: confined to the Raft loop thread.
#pragma once

#include <cstdint>
#include <optional>

namespace volley::cluster {

enum class RaftRole { kUnavailable, kFollower, kCandidate, kLeader };

struct RaftView {
  RaftRole role = RaftRole::kUnavailable;
  uint64_t term = 0;
  uint64_t leader = 0;  // raft_leader(): 0 when unknown (or while transferring)
};

class CoordinatorGate {
 public:
  explicit CoordinatorGate(uint64_t self) : self_(self) {}

  // Feeds the latest view. Returns a term when the caller must now propose this node's
  // coordinator entry for it (at most one proposal in flight).
  std::optional<uint64_t> Observe(const RaftView& view);

  // The entry proposed for `term` was committed and applied; `now` is Raft's view then.
  void Committed(uint64_t term, const RaftView& now);
  // The proposal for `term` failed (not leader any more, or Raft refused it).
  void Failed(uint64_t term);

  // True while this node leads the term whose coordinator entry it committed.
  bool coordinator() const { return coordinator_; }

  // A follower's view of readiness: a leader is known and the last coordinator entry
  // applied here is that leader's, for the current term.
  static bool FollowerReady(const RaftView& view, uint64_t applied_coord_term,
                            uint64_t applied_coord_leader);

 private:
  bool Leads(const RaftView& v) const { return v.role == RaftRole::kLeader && v.leader == self_; }

  const uint64_t self_;
  uint64_t committed_term_ = 0;  // the term whose coordinator entry this node committed
  bool pending_ = false;
  bool coordinator_ = false;
  RaftView last_;
};

}  // namespace volley::cluster
