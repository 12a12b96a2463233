// The first frames of a Raft tunnel (proto/volley/v1/node.proto: Hello, Welcome) and the
// checks that decide whether a peer may join: protocol version, cluster token (constant
// time), membership in CLUSTER_NODES. Pure functions: thread-safe, fuzzed
// (fuzz/cluster_handshake_fuzz.cc), unit-tested (handshake_test.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "membership.h"
#include "volley/common/result.h"

namespace volley::v1 {
class Hello;
class Welcome;
}  // namespace volley::v1

namespace volley::cluster {

// Bumped whenever nodes of two builds could misunderstand each other.
inline constexpr uint32_t kProtocolVersion = 1;
inline constexpr const char* kSoftwareVersion = "volley 0.1.0";

struct PeerIdentity {
  std::string node_id;
  uint64_t raft_id = 0;
  std::string region;
  std::string address;  // normalized
};

// Why a peer was refused; the tunnel maps it to a gRPC status.
enum class Refusal { kNone, kMalformed, kVersion, kToken, kNotMember };
const char* RefusalName(Refusal r);  // "malformed", "version", "token", "not-member"

// What the accepting side checks. Immutable once built.
struct HandshakePolicy {
  std::string token;                // empty = no token required
  std::vector<MemberSpec> members;  // the static configuration (InitialConfiguration)
  uint64_t self_raft_id = 0;
};

// Constant-time equality (CRYPTO_memcmp of SHA-256 digests, so lengths leak nothing).
bool TokensEqual(std::string_view a, std::string_view b);

// Checks a caller's Hello. On refusal, `*why` says which check failed and the error's
// message names it (both versions for skew; never the token).
Result<PeerIdentity> CheckHello(const v1::Hello& hello, const HandshakePolicy& policy,
                                Refusal* why);

// Parses one serialized TunnelFrame that must hold a Hello, then CheckHello. The decoder
// of the accepting side's first frame, and what the fuzzer drives.
Result<PeerIdentity> DecodeHelloFrame(std::string_view bytes, const HandshakePolicy& policy,
                                      Refusal* why);

// Checks the accepting side's Welcome against the Raft id the caller meant to reach.
Result<PeerIdentity> CheckWelcome(const v1::Welcome& welcome, uint64_t expected_raft_id);

}  // namespace volley::cluster
