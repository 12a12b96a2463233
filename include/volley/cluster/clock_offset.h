// The offset between this node's steady clock and the leader's wall clock, estimated from
// request/response exchanges as NTP does (RFC 5905 §8): for each exchange, t0 = local send,
// t1 = remote receive, t2 = remote send, t3 = local receive; the offset is
// ((t1 - t0) + (t2 - t3)) / 2 and its error is at most half the round trip
// (t3 - t0) - (t2 - t1). The sample with the smallest round trip wins (NTP's clock filter).
// Pure arithmetic; the exchanges themselves travel over the node protocol.
#pragma once

#include <cstdint>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/result.h"

namespace volley::cluster {

struct ClockSample {
  Nanos t0{0}, t3{0};  // this node's steady clock
  Nanos t1{0}, t2{0};  // the leader's wall clock (Unix time)
};

struct ClockOffset {
  Nanos offset{0};       // leader wall clock minus local steady clock
  Nanos uncertainty{0};  // half the best sample's round trip: |error| <= uncertainty
  size_t samples = 0;    // usable samples
  // The local steady time at which the leader's wall clock reads `leader_unix`.
  Nanos LocalAt(Nanos leader_unix) const { return leader_unix - offset; }
  // The leader's wall clock at local steady time `local`.
  Nanos LeaderAt(Nanos local) const { return local + offset; }
};

// kInvalidArgument when no sample is usable (none given, or each has t3 < t0 or t2 < t1).
Result<ClockOffset> EstimateOffset(const std::vector<ClockSample>& samples);

}  // namespace volley::cluster
