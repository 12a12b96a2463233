// Static membership (CLUSTER_NODES) and the coordinator's membership decisions. Pure
// functions with the time passed in, so the decisions are unit-tested without Raft or
// sleeping (membership_test.cc). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "volley/common/result.h"

namespace volley::cluster {

enum class Membership { kVoter, kStandby, kSpare };
const char* MembershipName(Membership m);  // "voter", "standby", "spare"

// "Host:Port" → "host:port": trimmed, host lower-cased, "localhost" → 127.0.0.1, IPv6 in
// brackets. kInvalidArgument naming the text when the port is missing or not 1-65535.
Result<std::string> NormalizeAddress(std::string_view text);

// The Raft id of a member: FNV-1a 64 of its normalized address (never 0). Every node
// computes the same id for the same address, so no id needs to be configured.
uint64_t RaftIdFor(std::string_view normalized_address);

struct MemberSpec {
  uint64_t raft_id = 0;
  std::string address;  // normalized
  Membership membership = Membership::kVoter;
};

// The configuration every node bootstraps with: the normalized addresses of `nodes`,
// deduplicated and sorted; the first `voters` are voters, the rest standbys. Identical on
// every node that has the same list, whatever its order. Errors name each bad entry.
// REQUIRES: voters >= 1.
Result<std::vector<MemberSpec>> InitialConfiguration(const std::vector<std::string>& nodes,
                                                     size_t voters);

// What the coordinator sees of one member when it decides.
struct MemberView {
  uint64_t raft_id = 0;
  Membership membership = Membership::kVoter;
  // Time since bytes last came from it; nullopt = never since this node took office.
  std::optional<std::chrono::milliseconds> silent_for;
};

struct MembershipChange {
  enum Kind { kDemote, kPromote } kind;  // demote: voter → standby; promote: standby → voter
  uint64_t raft_id = 0;
  std::string reason;  // for the log line
};

// The next membership change the coordinator should commit, if any, one at a time:
// 1. a voter (not `self`) silent for more than `promote_after` is demoted to standby, but
//    only when a live standby can take its place;
// 2. while there are fewer than `target_voters` voters, the live standby with the most
//    recent contact (then the lowest id) is promoted.
// A member is live when it was heard from within `promote_after`. `in_office_for` is how
// long this node has coordinated: members never heard from count as silent for that long.
std::optional<MembershipChange> NextMembershipChange(const std::vector<MemberView>& members,
                                                     uint64_t self, size_t target_voters,
                                                     std::chrono::milliseconds promote_after,
                                                     std::chrono::milliseconds in_office_for);

}  // namespace volley::cluster
