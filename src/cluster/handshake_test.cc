#include "handshake.h"

#include <gtest/gtest.h>

#include "volley/v1/node.pb.h"

namespace volley::cluster {
namespace {

HandshakePolicy Policy(std::string token = "") {
  auto conf = InitialConfiguration({"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"}, 5);
  return HandshakePolicy{std::move(token), *conf, RaftIdFor("127.0.0.1:7001")};
}

v1::Hello HelloFrom(const std::string& address, const std::string& token = "") {
  v1::Hello h;
  h.set_protocol_version(kProtocolVersion);
  h.set_software_version(kSoftwareVersion);
  h.set_node_id("node-" + address);
  h.set_raft_id(RaftIdFor(address));
  h.set_region("eu");
  h.set_address(address);
  h.set_token(token);
  h.set_expect_raft_id(RaftIdFor("127.0.0.1:7001"));
  return h;
}

TEST(Handshake, AcceptsAListedMemberAndReturnsItsIdentity) {
  Refusal why = Refusal::kMalformed;
  auto peer = CheckHello(HelloFrom("127.0.0.1:7002"), Policy(), &why);
  ASSERT_TRUE(peer) << peer.error().message;
  EXPECT_EQ(why, Refusal::kNone);
  EXPECT_EQ(peer->node_id, "node-127.0.0.1:7002");
  EXPECT_EQ(peer->region, "eu");
  EXPECT_EQ(peer->raft_id, RaftIdFor("127.0.0.1:7002"));
}

TEST(Handshake, VersionSkewNamesBothVersions) {
  auto h = HelloFrom("127.0.0.1:7002");
  h.set_protocol_version(7);
  h.set_software_version("volley 9.9.9");
  Refusal why;
  auto peer = CheckHello(h, Policy(), &why);
  ASSERT_FALSE(peer);
  EXPECT_EQ(why, Refusal::kVersion);
  EXPECT_NE(peer.error().message.find("volley 9.9.9"), std::string::npos);
  EXPECT_NE(peer.error().message.find("v7"), std::string::npos);
  EXPECT_NE(peer.error().message.find("volley 0.1.0) speaks v1"), std::string::npos);
}

TEST(Handshake, WrongOrMissingTokenIsRefusedWithoutShowingIt) {
  Refusal why;
  auto wrong = CheckHello(HelloFrom("127.0.0.1:7002", "s3cr3t-wrong"), Policy("s3cr3t"), &why);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(why, Refusal::kToken);
  EXPECT_EQ(wrong.error().message.find("s3cr3t"), std::string::npos);
  EXPECT_FALSE(CheckHello(HelloFrom("127.0.0.1:7002", ""), Policy("s3cr3t"), &why));
  EXPECT_TRUE(CheckHello(HelloFrom("127.0.0.1:7002", "s3cr3t"), Policy("s3cr3t"), &why));
  EXPECT_TRUE(TokensEqual("abc", "abc"));
  EXPECT_FALSE(TokensEqual("abc", "abd"));
  EXPECT_FALSE(TokensEqual("abc", "abcd"));
}

TEST(Handshake, AStrangerOrAForgedIdIsRefused) {
  Refusal why;
  auto stranger = CheckHello(HelloFrom("127.0.0.1:7999"), Policy(), &why);
  ASSERT_FALSE(stranger);
  EXPECT_EQ(why, Refusal::kNotMember);
  EXPECT_NE(stranger.error().message.find("127.0.0.1:7999 is not in this node's CLUSTER_NODES"),
            std::string::npos);
  auto forged = HelloFrom("127.0.0.1:7002");
  forged.set_raft_id(RaftIdFor("127.0.0.1:7003"));
  EXPECT_FALSE(CheckHello(forged, Policy(), &why));
  EXPECT_EQ(why, Refusal::kNotMember);
  auto misdirected = HelloFrom("127.0.0.1:7002");
  misdirected.set_expect_raft_id(RaftIdFor("127.0.0.1:7003"));
  EXPECT_FALSE(CheckHello(misdirected, Policy(), &why));
}

TEST(Handshake, DecoderRefusesGarbageAndNonHelloFrames) {
  Refusal why;
  EXPECT_FALSE(DecodeHelloFrame("\xff\xff\xff garbage", Policy(), &why));
  EXPECT_EQ(why, Refusal::kMalformed);
  v1::TunnelFrame data;
  data.set_raft_bytes("xx");
  EXPECT_FALSE(DecodeHelloFrame(data.SerializeAsString(), Policy(), &why));
  v1::TunnelFrame hello;
  *hello.mutable_hello() = HelloFrom("localhost:7003");
  hello.mutable_hello()->set_raft_id(RaftIdFor("127.0.0.1:7003"));  // ids come from the normal form
  auto ok = DecodeHelloFrame(hello.SerializeAsString(), Policy(), &why);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->address, "127.0.0.1:7003");
}

TEST(Handshake, WelcomeMustComeFromTheMemberAsked) {
  v1::Welcome w;
  w.set_protocol_version(kProtocolVersion);
  w.set_raft_id(42);
  w.set_address("127.0.0.1:7002");
  EXPECT_TRUE(CheckWelcome(w, 42));
  EXPECT_FALSE(CheckWelcome(w, 43));
  w.set_protocol_version(2);
  EXPECT_NE(CheckWelcome(w, 42).error().message.find("v2"), std::string::npos);
}

}  // namespace
}  // namespace volley::cluster
