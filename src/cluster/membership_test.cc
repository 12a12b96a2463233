#include "membership.h"

#include <gtest/gtest.h>

namespace volley::cluster {
namespace {

using std::chrono::milliseconds;

TEST(Membership, NormalizesAddresses) {
  EXPECT_EQ(*NormalizeAddress(" LocalHost:7000 "), "127.0.0.1:7000");
  EXPECT_EQ(*NormalizeAddress("Node-A.example:7000"), "node-a.example:7000");
  EXPECT_EQ(*NormalizeAddress("[::1]:7000"), "[::1]:7000");
  EXPECT_EQ(*NormalizeAddress("::1:7000"), "[::1]:7000");
  EXPECT_FALSE(NormalizeAddress("10.0.0.1"));
  EXPECT_FALSE(NormalizeAddress("10.0.0.1:0"));
  EXPECT_FALSE(NormalizeAddress("10.0.0.1:70000"));
  EXPECT_NE(NormalizeAddress("a b:1").error().message.find("'a b:1'"), std::string::npos);
}

TEST(Membership, EveryNodeDerivesTheSameConfigurationWhateverTheOrder) {
  auto a = InitialConfiguration(
      {"10.0.0.3:7000", "10.0.0.1:7000", "localhost:7000", "10.0.0.2:7000"}, 3);
  auto b = InitialConfiguration(
      {"127.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000", "10.0.0.1:7000", "10.0.0.1:7000"}, 3);
  ASSERT_TRUE(a && b);
  ASSERT_EQ(a->size(), 4u);
  ASSERT_EQ(b->size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ((*a)[i].address, (*b)[i].address);
    EXPECT_EQ((*a)[i].raft_id, (*b)[i].raft_id);
    EXPECT_EQ((*a)[i].raft_id, RaftIdFor((*a)[i].address));
    EXPECT_EQ((*a)[i].membership, i < 3 ? Membership::kVoter : Membership::kStandby);
  }
  EXPECT_EQ((*a)[0].address, "10.0.0.1:7000");
  EXPECT_EQ((*a)[3].address, "127.0.0.1:7000");
  // FNV-1a 64 of the text: stable across builds and machines.
  EXPECT_EQ(RaftIdFor(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(RaftIdFor("a"), 0xaf63dc4c8601ec8cull);
}

TEST(Membership, ReportsEveryBadAddress) {
  auto c = InitialConfiguration({"x", "10.0.0.1:7000", "y:0"}, 5);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("'x'"), std::string::npos);
  EXPECT_NE(c.error().message.find("'y:0'"), std::string::npos);
}

std::vector<MemberView> SevenNodes() {
  // ids 1..3 voters (1 = self, the coordinator), 4..7 standbys.
  std::vector<MemberView> v;
  for (uint64_t id = 1; id <= 7; ++id) {
    v.push_back({id, id <= 3 ? Membership::kVoter : Membership::kStandby, milliseconds(50)});
  }
  return v;
}

TEST(Membership, HealthyClusterNeedsNoChange) {
  EXPECT_FALSE(NextMembershipChange(SevenNodes(), 1, 3, milliseconds(2000), milliseconds(10000)));
}

TEST(Membership, SilentVoterIsDemotedOnlyAfterPromoteAfter) {
  auto v = SevenNodes();
  v[1].silent_for = milliseconds(2000);
  EXPECT_FALSE(NextMembershipChange(v, 1, 3, milliseconds(2000), milliseconds(10000)));
  v[1].silent_for = milliseconds(2001);
  auto c = NextMembershipChange(v, 1, 3, milliseconds(2000), milliseconds(10000));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, MembershipChange::kDemote);
  EXPECT_EQ(c->raft_id, 2u);
  EXPECT_NE(c->reason.find("2001 ms"), std::string::npos);
}

TEST(Membership, AfterDemotionTheFreshestStandbyIsPromoted) {
  auto v = SevenNodes();
  v[1].membership = Membership::kStandby;  // 2 was demoted
  v[1].silent_for = milliseconds(5000);
  v[3].silent_for = milliseconds(300);  // 4
  v[4].silent_for = milliseconds(20);   // 5: freshest
  v[5].silent_for = milliseconds(20);   // 6: as fresh, higher id
  v[6].silent_for = std::nullopt;       // 7: never heard from
  auto c = NextMembershipChange(v, 1, 3, milliseconds(2000), milliseconds(10000));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, MembershipChange::kPromote);
  EXPECT_EQ(c->raft_id, 5u);
}

TEST(Membership, NoDemotionWithoutALiveStandby) {
  auto v = SevenNodes();
  v[1].silent_for = milliseconds(9000);
  for (size_t i = 3; i < 7; ++i) v[i].silent_for = milliseconds(9000);
  EXPECT_FALSE(NextMembershipChange(v, 1, 3, milliseconds(2000), milliseconds(10000)));
}

TEST(Membership, NeverHeardFromCountsAsSilentForTheTimeInOffice) {
  auto v = SevenNodes();
  v[2].silent_for = std::nullopt;
  EXPECT_FALSE(NextMembershipChange(v, 1, 3, milliseconds(2000), milliseconds(1500)));
  auto c = NextMembershipChange(v, 1, 3, milliseconds(2000), milliseconds(2500));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->raft_id, 3u);
}

TEST(Membership, SelfIsNeverDemoted) {
  auto v = SevenNodes();
  v[0].silent_for = std::nullopt;
  EXPECT_FALSE(NextMembershipChange(v, 1, 3, milliseconds(2000), milliseconds(99000)));
}

}  // namespace
}  // namespace volley::cluster
