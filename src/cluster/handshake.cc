#include "handshake.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "volley/v1/node.pb.h"

namespace volley::cluster {
namespace {

constexpr size_t kMaxField = 256;

Result<PeerIdentity> Refuse(Refusal kind, Refusal* why, std::string message) {
  if (why) *why = kind;
  return MakeError(kind == Refusal::kMalformed ? ErrorCode::kProtocol : ErrorCode::kInvalidArgument,
                   std::move(message));
}

std::string VersionSkew(uint32_t theirs, const std::string& their_software) {
  return "protocol version skew: the peer (" +
         (their_software.empty() ? std::string("unknown build") : their_software.substr(0, 64)) +
         ") speaks node protocol v" + std::to_string(theirs) + ", this node (" + kSoftwareVersion +
         ") speaks v" + std::to_string(kProtocolVersion) +
         "; run the same volley version on every node";
}

}  // namespace

const char* RefusalName(Refusal r) {
  switch (r) {
    case Refusal::kNone:
      return "none";
    case Refusal::kMalformed:
      return "malformed";
    case Refusal::kVersion:
      return "version";
    case Refusal::kToken:
      return "token";
    case Refusal::kNotMember:
      return "not-member";
  }
  return "malformed";
}

bool TokensEqual(std::string_view a, std::string_view b) {
  unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), da);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), db);
  return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

Result<PeerIdentity> CheckHello(const v1::Hello& hello, const HandshakePolicy& policy,
                                Refusal* why) {
  if (why) *why = Refusal::kNone;
  if (hello.protocol_version() != kProtocolVersion) {
    return Refuse(Refusal::kVersion, why,
                  VersionSkew(hello.protocol_version(), hello.software_version()));
  }
  if (!policy.token.empty() && !TokensEqual(hello.token(), policy.token)) {
    return Refuse(Refusal::kToken, why,
                  "wrong cluster token from node '" + hello.node_id().substr(0, 64) + "' (" +
                      hello.address().substr(0, 64) + "): every node needs the same CLUSTER_TOKEN");
  }
  if (hello.node_id().size() > kMaxField || hello.region().size() > kMaxField ||
      hello.address().size() > kMaxField) {
    return Refuse(Refusal::kMalformed, why, "hello: node_id, region or address too long");
  }
  auto address = NormalizeAddress(hello.address());
  if (!address) {
    return Refuse(Refusal::kMalformed, why, "hello: " + address.error().message);
  }
  const MemberSpec* member = nullptr;
  for (const auto& m : policy.members) {
    if (m.address == *address) member = &m;
  }
  if (member == nullptr) {
    return Refuse(Refusal::kNotMember, why,
                  "node '" + hello.node_id() + "' at " + *address +
                      " is not in this node's CLUSTER_NODES; add it to every node's list");
  }
  if (hello.raft_id() != member->raft_id) {
    return Refuse(Refusal::kNotMember, why,
                  "node at " + *address + " claims Raft id " + std::to_string(hello.raft_id()) +
                      ", its address gives " + std::to_string(member->raft_id));
  }
  if (hello.expect_raft_id() != 0 && hello.expect_raft_id() != policy.self_raft_id) {
    return Refuse(Refusal::kNotMember, why,
                  "node at " + *address + " wanted another member at this address (Raft id " +
                      std::to_string(hello.expect_raft_id()) +
                      "): CLUSTER_SELF_ADDR or CLUSTER_NODES disagree between nodes");
  }
  return PeerIdentity{hello.node_id(), hello.raft_id(), hello.region(), *address};
}

Result<PeerIdentity> DecodeHelloFrame(std::string_view bytes, const HandshakePolicy& policy,
                                      Refusal* why) {
  v1::TunnelFrame frame;
  if (!frame.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || !frame.has_hello()) {
    return Refuse(Refusal::kMalformed, why,
                  "the first frame of a tunnel must be a Hello (is the caller a volley node?)");
  }
  return CheckHello(frame.hello(), policy, why);
}

Result<PeerIdentity> CheckWelcome(const v1::Welcome& welcome, uint64_t expected_raft_id) {
  if (welcome.protocol_version() != kProtocolVersion) {
    return MakeError(ErrorCode::kProtocol,
                     VersionSkew(welcome.protocol_version(), welcome.software_version()));
  }
  if (welcome.raft_id() != expected_raft_id) {
    return MakeError(ErrorCode::kProtocol,
                     "the node at " + welcome.address().substr(0, 64) + " has Raft id " +
                         std::to_string(welcome.raft_id()) + ", expected " +
                         std::to_string(expected_raft_id) +
                         ": CLUSTER_NODES or CLUSTER_SELF_ADDR disagree between nodes");
  }
  return PeerIdentity{welcome.node_id(), welcome.raft_id(), welcome.region(), welcome.address()};
}

}  // namespace volley::cluster
