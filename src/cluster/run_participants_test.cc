#include "volley/cluster/run_participants.h"

#include <gtest/gtest.h>

namespace volley::cluster {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Kind = StartDecision::Kind;

constexpr milliseconds kLostAfter{5000};
const Nanos kSubmit = seconds(1'700'000'000);

MemberStatus Member(const std::string& id, const std::string& region,
                    std::optional<milliseconds> last_contact, std::string membership = "voter") {
  MemberStatus m;
  m.node_id = id;
  m.region = region;
  m.membership = std::move(membership);
  m.last_contact = last_contact;
  return m;
}

// The coordinator n0's view: n1 heard 100 ms ago, n2 silent for 9 s, n3 never heard, s a
// spare.
ClusterStatus View() {
  ClusterStatus s;
  s.node_id = "n0";
  s.coordinator = true;
  // Not in id order (as a leader's view may be): the choice is in id order.
  s.members = {Member("n2", "us", milliseconds(9000)), Member("n0", "eu", std::nullopt),
               Member("s", "eu", milliseconds(10), "spare"), Member("n3", "us", std::nullopt),
               Member("n1", "eu", milliseconds(100))};
  return s;
}

TEST(RunParticipants, EveryMemberButSparesMayTakePartAndTheHeardOnesAreReady) {
  auto c = ChooseParticipants(config::ClusterSection{}, View(), kLostAfter);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->eligible, (std::vector<std::string>{"n0", "n1", "n2", "n3"}));
  EXPECT_EQ(c->ready, (std::vector<std::string>{"n0", "n1"}));
  // Heard exactly lost_after ago still counts as ready; a millisecond more does not.
  ClusterStatus edge = View();
  edge.members[0].last_contact = kLostAfter;
  EXPECT_EQ(ChooseParticipants({}, edge, kLostAfter)->ready,
            (std::vector<std::string>{"n0", "n1", "n2"}));
  edge.members[0].last_contact = kLostAfter + milliseconds(1);
  EXPECT_EQ(ChooseParticipants({}, edge, kLostAfter)->ready,
            (std::vector<std::string>{"n0", "n1"}));
}

TEST(RunParticipants, NodesChoosesBySubsetOfRegionsOrIds) {
  config::ClusterSection by_region;
  by_region.regions = {"us"};
  auto c = ChooseParticipants(by_region, View(), kLostAfter);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->eligible, (std::vector<std::string>{"n2", "n3"}));
  EXPECT_TRUE(c->ready.empty()) << "the coordinator is not in us; n2 and n3 are silent";

  config::ClusterSection mixed;
  mixed.regions = {"us"};
  mixed.ids = {"n1"};
  c = ChooseParticipants(mixed, View(), kLostAfter);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->eligible, (std::vector<std::string>{"n1", "n2", "n3"}));
  EXPECT_EQ(c->ready, (std::vector<std::string>{"n1"}));
}

TEST(RunParticipants, ASubsetThatCanNeverStartIsRefusedNamingTheMembers) {
  config::ClusterSection unknown;
  unknown.ids = {"n1", "n9"};
  auto c = ChooseParticipants(unknown, View(), kLostAfter);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(c.error().message,
            "cluster.nodes.ids: 'n9' is not a member of the cluster; members: n0 (region eu), "
            "n1 (region eu), n2 (region us), n3 (region us)");

  config::ClusterSection nowhere;
  nowhere.regions = {"ap"};
  c = ChooseParticipants(nowhere, View(), kLostAfter);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message.rfind("cluster.nodes: matches no member that may take part "
                                    "(regions [ap], ids [none]); members: n0 (region eu)",
                                    0),
            0u)
      << c.error().message;

  config::ClusterSection spare_only;
  spare_only.ids = {"s"};
  EXPECT_FALSE(ChooseParticipants(spare_only, View(), kLostAfter));

  config::ClusterSection too_many;
  too_many.regions = {"us"};
  too_many.min_nodes = 3;
  c = ChooseParticipants(too_many, View(), kLostAfter);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message,
            "cluster.minNodes: 3 nodes can never be ready: only 2 member(s) may take part (n2, "
            "n3)");
}

TEST(RunParticipants, MinNodesWaitsThenStartsWithEveryReadyNode) {
  config::ClusterSection s;
  s.min_nodes = 3;
  s.min_nodes_timeout = seconds(30);
  ParticipantChoice two{{"n0", "n1", "n2"}, {"n0", "n1"}};
  StartDecision d = DecideStart(s, two, kSubmit, kSubmit + seconds(10));
  EXPECT_EQ(d.kind, Kind::kWait);
  EXPECT_EQ(d.reason, "waiting for cluster.minNodes: 2 of 3 node(s) ready (n0, n1)");
  EXPECT_TRUE(d.participants.empty());
  // Exactly at the timeout it still waits.
  EXPECT_EQ(DecideStart(s, two, kSubmit, kSubmit + seconds(30)).kind, Kind::kWait);

  ParticipantChoice three{{"n0", "n1", "n2"}, {"n0", "n1", "n2"}};
  d = DecideStart(s, three, kSubmit, kSubmit + seconds(29));
  EXPECT_EQ(d.kind, Kind::kStart);
  EXPECT_EQ(d.participants, (std::vector<std::string>{"n0", "n1", "n2"}));

  // Without minNodes, one ready node starts the run at once, with every ready one.
  d = DecideStart(config::ClusterSection{}, two, kSubmit, kSubmit);
  EXPECT_EQ(d.kind, Kind::kStart);
  EXPECT_EQ(d.participants, (std::vector<std::string>{"n0", "n1"}));
}

TEST(RunParticipants, PastTheTimeoutThePlannedRunEndsWithTheReason) {
  config::ClusterSection s;
  s.min_nodes = 3;
  s.min_nodes_timeout = milliseconds(1500);
  ParticipantChoice two{{"n0", "n1", "n2"}, {"n0", "n1"}};
  StartDecision d = DecideStart(s, two, kSubmit, kSubmit + milliseconds(1501));
  EXPECT_EQ(d.kind, Kind::kEnd);
  EXPECT_EQ(d.reason,
            "not started: cluster.minNodes 3 was not reached within cluster.minNodesTimeout "
            "1500ms of the submission; 2 of 3 node(s) ready (n0, n1); nothing ran");
  // A submit without a known instant (an older node's) cannot wait.
  EXPECT_EQ(DecideStart(s, two, Nanos(0), kSubmit).kind, Kind::kEnd);
  // A new coordinator whose nodes are ready after the timeout still ends it: the window is
  // measured from the submit, whoever coordinates.
  ParticipantChoice none{{"n0"}, {}};
  d = DecideStart(config::ClusterSection{}, none, kSubmit, kSubmit + seconds(31));
  EXPECT_EQ(d.kind, Kind::kEnd);
  EXPECT_NE(d.reason.find("0 of 1 node(s) ready (none)"), std::string::npos) << d.reason;
}

TEST(RunParticipants, LostAfterCountsFromTheLastContactOrTheStart) {
  RunRecord run;
  run.submit.run_id = "r1";
  run.submit.participants = {"n0", "n1", "n2", "n3"};
  run.phase = RunPhase::kStarted;
  run.start_unix = kSubmit;
  ClusterStatus view = View();
  // 4 s after the start: n2 (last contact 9 s) is lost; n3, never heard, not yet.
  EXPECT_EQ(SilentParticipants(run, view, kSubmit + seconds(4), kLostAfter),
            (std::vector<std::string>{"n2"}));
  // Past lost_after since the start, n3 (never heard) is lost too; the coordinator never.
  EXPECT_EQ(SilentParticipants(run, view, kSubmit + milliseconds(5001), kLostAfter),
            (std::vector<std::string>{"n2", "n3"}));
  EXPECT_EQ(SilentParticipants(run, view, kSubmit + milliseconds(5000), kLostAfter),
            (std::vector<std::string>{"n2"}));
  // A node with an outcome is not watched; nor is a run that has not started or has ended.
  run.outcomes["n2"] = NodeOutcome{false, "{}"};
  EXPECT_EQ(SilentParticipants(run, view, kSubmit + seconds(6), kLostAfter),
            (std::vector<std::string>{"n3"}));
  RunRecord planned = run;
  planned.start_unix.reset();
  planned.phase = RunPhase::kPlanned;
  EXPECT_TRUE(SilentParticipants(planned, view, kSubmit + seconds(60), kLostAfter).empty());
  run.phase = RunPhase::kEnded;
  EXPECT_TRUE(SilentParticipants(run, view, kSubmit + seconds(60), kLostAfter).empty());
}

}  // namespace
}  // namespace volley::cluster

namespace volley::cluster {
namespace {

// A member never heard from is named by its address: it may be any id in any region, so a
// subset naming an id not seen yet is not refused, and it is not counted ready.
TEST(RunParticipants, AMemberNotHeardFromYetMayStillMatch) {
  ClusterStatus s;
  s.node_id = "n0";
  s.members = {Member("n0", "eu", std::nullopt), Member("n1", "eu", milliseconds(50)),
               Member("127.0.0.1:7002", "", std::nullopt)};
  s.members[2].address = "127.0.0.1:7002";
  config::ClusterSection later;
  later.ids = {"n0", "n2"};
  later.min_nodes = 2;
  auto c = ChooseParticipants(later, s, kLostAfter);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->eligible, (std::vector<std::string>{"n0"}));
  EXPECT_EQ(c->unidentified, (std::vector<std::string>{"127.0.0.1:7002"}));
  EXPECT_EQ(c->ready, (std::vector<std::string>{"n0"}));
  EXPECT_EQ(DecideStart(later, *c, kSubmit, kSubmit).kind, Kind::kWait);
  later.min_nodes = 3;
  c = ChooseParticipants(later, s, kLostAfter);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message,
            "cluster.minNodes: 3 nodes can never be ready: only 2 member(s) may take part (n0; "
            "not heard from yet: 127.0.0.1:7002)");
  // Once it is heard from, it has its id: n2 is ready and the run starts with both.
  s.members[2] = Member("n2", "us", milliseconds(20));
  later.min_nodes = 2;
  c = ChooseParticipants(later, s, kLostAfter);
  ASSERT_TRUE(c) << c.error().message;
  const StartDecision d = DecideStart(later, *c, kSubmit, kSubmit + seconds(3));
  EXPECT_EQ(d.kind, Kind::kStart);
  EXPECT_EQ(d.participants, (std::vector<std::string>{"n0", "n2"}));
}

}  // namespace
}  // namespace volley::cluster
