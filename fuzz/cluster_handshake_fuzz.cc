// libFuzzer target for the first frame of a Raft tunnel (src/cluster/handshake.h): what a
// node decodes from any caller on its cluster port before it knows who that is.
//
// Input: a serialized TunnelFrame. Invariants: an accepted peer is a listed member whose
// Raft id matches its address and who presented the token; a refusal says why and never
// echoes the token.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "handshake.h"
#include "volley/v1/node.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace volley::cluster;
  static const HandshakePolicy policy = [] {
    auto conf = InitialConfiguration({"127.0.0.1:7001", "127.0.0.1:7002", "[::1]:7003"}, 2);
    return HandshakePolicy{"fuzz-token-secret", *conf, RaftIdFor("127.0.0.1:7001")};
  }();
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Refusal why = Refusal::kNone;
  auto peer = DecodeHelloFrame(in, policy, &why);
  if (peer) {
    FUZZ_CHECK(why == Refusal::kNone);
    bool listed = false;
    for (const auto& m : policy.members) {
      listed = listed || (m.address == peer->address && m.raft_id == peer->raft_id);
    }
    FUZZ_CHECK(listed);
    volley::v1::TunnelFrame f;
    FUZZ_CHECK(f.ParseFromArray(in.data(), static_cast<int>(in.size())));
    FUZZ_CHECK(TokensEqual(f.hello().token(), policy.token));
  } else {
    FUZZ_CHECK(why != Refusal::kNone);
    // The refusal does not depend on the token presented (so it cannot echo it), nor on
    // the token expected.
    volley::v1::TunnelFrame f;
    if (!f.ParseFromArray(in.data(), static_cast<int>(in.size())) || !f.has_hello()) return 0;
    // (A caller with the right token refused for another reason would be refused for the
    // token with a wrong one: that case says nothing about echoing.)
    if (f.hello().token() == policy.token) return 0;
    volley::v1::Hello other = f.hello();
    other.set_token(f.hello().token() + "#");
    if (other.token() == policy.token) return 0;
    Refusal why2 = Refusal::kNone;
    auto again = CheckHello(other, policy, &why2);
    FUZZ_CHECK(!again && why2 == why && again.error().message == peer.error().message);
    HandshakePolicy policy2 = policy;
    policy2.token = "another-secret-entirely";
    if (f.hello().token() != policy2.token) {
      auto third = CheckHello(f.hello(), policy2, &why2);
      FUZZ_CHECK(!third && third.error().message == peer.error().message);
    }
  }
  return 0;
}
