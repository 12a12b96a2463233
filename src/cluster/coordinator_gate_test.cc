#include "coordinator_gate.h"

#include <gtest/gtest.h>

namespace volley::cluster {
namespace {

constexpr uint64_t kSelf = 7, kOther = 9;

RaftView Leader(uint64_t term) { return {RaftRole::kLeader, term, kSelf}; }
RaftView Follower(uint64_t term, uint64_t leader = kOther) {
  return {RaftRole::kFollower, term, leader};
}

TEST(CoordinatorGate, LeaderCoordinatesOnlyAfterItsEntryIsCommitted) {
  CoordinatorGate g(kSelf);
  EXPECT_FALSE(g.Observe(Follower(1)));
  EXPECT_FALSE(g.Observe({RaftRole::kCandidate, 2, 0}));
  EXPECT_EQ(g.Observe(Leader(2)), 2u);  // propose now
  EXPECT_FALSE(g.coordinator());
  EXPECT_FALSE(g.Observe(Leader(2)));  // one proposal in flight, not two
  EXPECT_FALSE(g.coordinator());
  g.Committed(2, Leader(2));
  EXPECT_TRUE(g.coordinator());
  EXPECT_FALSE(g.Observe(Leader(2)));
  EXPECT_TRUE(g.coordinator());
}

TEST(CoordinatorGate, ReadingLeaderDuringATransferIsNotCoordinating) {
  CoordinatorGate g(kSelf);
  g.Observe(Leader(3));
  g.Committed(3, Leader(3));
  ASSERT_TRUE(g.coordinator());
  g.Observe({RaftRole::kLeader, 3, 0});  // raft_leader() is 0 while transferring
  EXPECT_FALSE(g.coordinator());
  g.Observe(Leader(3));  // the transfer was abandoned: same term, entry still committed
  EXPECT_TRUE(g.coordinator());
}

TEST(CoordinatorGate, AnEntryCommittedAfterLosingTheTermGivesNoOffice) {
  CoordinatorGate g(kSelf);
  EXPECT_EQ(g.Observe(Leader(4)), 4u);
  g.Observe(Follower(5));  // deposed before the commit came back
  g.Committed(4, Follower(5));
  EXPECT_FALSE(g.coordinator());
  EXPECT_EQ(g.Observe(Leader(6)), 6u);  // re-elected later: a new entry for the new term
  g.Committed(6, Leader(6));
  EXPECT_TRUE(g.coordinator());
}

TEST(CoordinatorGate, APartitionedOldLeaderStopsCoordinatingWhenItStepsDownOrSeesANewTerm) {
  CoordinatorGate g(kSelf);
  g.Observe(Leader(2));
  g.Committed(2, Leader(2));
  ASSERT_TRUE(g.coordinator());
  g.Observe(Follower(3, 0));  // stepped down: lost its majority, saw term 3
  EXPECT_FALSE(g.coordinator());
  EXPECT_EQ(g.Observe(Leader(3)), 3u);  // elected again in term 3: office only after commit
  EXPECT_FALSE(g.coordinator());
  g.Committed(3, Leader(3));
  EXPECT_TRUE(g.coordinator());
}

TEST(CoordinatorGate, FailedProposalIsRetriedOnTheNextObservation) {
  CoordinatorGate g(kSelf);
  EXPECT_EQ(g.Observe(Leader(2)), 2u);
  g.Failed(2);
  EXPECT_FALSE(g.coordinator());
  EXPECT_EQ(g.Observe(Leader(2)), 2u);
}

TEST(CoordinatorGate, FollowerIsReadyOnlyWithTheCurrentLeadersEntryOfThisTerm) {
  EXPECT_TRUE(CoordinatorGate::FollowerReady(Follower(5), 5, kOther));
  EXPECT_FALSE(CoordinatorGate::FollowerReady(Follower(5), 4, kOther));     // old term's entry
  EXPECT_FALSE(CoordinatorGate::FollowerReady(Follower(5), 5, kSelf));      // someone else's
  EXPECT_FALSE(CoordinatorGate::FollowerReady(Follower(5, 0), 5, kOther));  // no leader known
}

}  // namespace
}  // namespace volley::cluster
