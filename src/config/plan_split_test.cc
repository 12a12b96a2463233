#include "volley/config/plan_split.h"

#include <gtest/gtest.h>

namespace volley::config {
namespace {

TEST(PlanSplit, RoundRobinSharesSumToTheWholeAndDifferByAtMostOne) {
  for (uint64_t total : {0ull, 1ull, 2ull, 7ull, 90ull, 1000ull, 3000ull, 123457ull}) {
    for (uint64_t n = 1; n <= 64; ++n) {
      uint64_t sum = 0, lo = UINT64_MAX, hi = 0;
      for (uint64_t i = 0; i < n; ++i) {
        const uint64_t s = RoundRobinShare(total, n, i);
        sum += s;
        lo = std::min(lo, s);
        hi = std::max(hi, s);
      }
      EXPECT_EQ(sum, total) << total << " over " << n;
      EXPECT_LE(hi - lo, 1u) << total << " over " << n;
    }
  }
}

TestPlan Closed(int workers, uint64_t budget) {
  TestPlan plan;
  plan.workers = workers;
  plan.max_requests = budget;
  return plan;
}

TEST(PlanSplit, ClosedModelUsersAndBudgetSumExactlyForEveryClusterSize) {
  for (int workers : {1, 3, 10, 64, 100}) {
    for (uint64_t budget : {0ull, 5ull, 3000ull}) {
      for (uint32_t n = 1; n <= 64; ++n) {
        uint64_t users = 0, requests = 0;
        uint32_t taking_part = 0;
        for (uint32_t i = 0; i < n; ++i) {
          auto share = SharePlan(Closed(workers, budget), Distribution::kDivide, i, n);
          ASSERT_TRUE(share.has_value()) << share.error().message;
          if (!TakesPart(*share)) continue;
          ++taking_part;
          users += static_cast<uint64_t>(share->workers);
          requests += share->max_requests;
          if (budget > 0) {
            EXPECT_GT(share->max_requests, 0u) << "0 would mean no limit";
          }
        }
        const uint64_t expected_nodes = std::min<uint64_t>(
            {n, static_cast<uint64_t>(workers), budget > 0 ? budget : UINT64_MAX});
        EXPECT_EQ(taking_part, expected_nodes) << workers << " users, n=" << n;
        if (budget > 0) {
          EXPECT_EQ(requests, budget) << workers << " users, n=" << n;
          // Fewer users than the budget allows can then be taken part by fewer nodes.
          EXPECT_LE(users, static_cast<uint64_t>(workers));
        } else {
          EXPECT_EQ(users, static_cast<uint64_t>(workers)) << "n=" << n;
        }
      }
    }
  }
}

TEST(PlanSplit, OpenModelSharesTheArrivalSequenceRoundRobin) {
  TestPlan plan;
  plan.load.kind = LoadModelKind::kRps;
  plan.load.target = 300;
  plan.load.max_in_flight = 10;
  plan.workers = 4;
  plan.max_requests = 1000;
  for (uint32_t n = 1; n <= 64; ++n) {
    uint64_t budget = 0;
    for (uint32_t i = 0; i < n; ++i) {
      auto share = SharePlan(plan, Distribution::kDivide, i, n);
      ASSERT_TRUE(share.has_value());
      EXPECT_EQ(share->segment.index, n == 1 ? 0u : i);
      EXPECT_EQ(share->segment.count, n);
      EXPECT_EQ(share->load.target, 300) << "the schedule stays the plan's; the segment picks";
      EXPECT_GE(share->workers, 1);
      EXPECT_GE(share->load.max_in_flight, 1u);
      budget += share->max_requests;
    }
    EXPECT_EQ(budget, 1000u) << n;
  }
}

TEST(PlanSplit, ReplicateRunsTheWholePlanOnEveryNode) {
  TestPlan plan = Closed(10, 3000);
  for (uint32_t i = 0; i < 3; ++i) {
    auto share = SharePlan(plan, Distribution::kReplicate, i, 3);
    ASSERT_TRUE(share.has_value());
    EXPECT_EQ(share->workers, 10);
    EXPECT_EQ(share->max_requests, 3000u);
    EXPECT_TRUE(share->segment.whole());
  }
}

TEST(PlanSplit, RefusesNodesOutsideTheClusterAndSharesOfShares) {
  EXPECT_FALSE(SharePlan(Closed(10, 0), Distribution::kDivide, 3, 3).has_value());
  EXPECT_FALSE(SharePlan(Closed(10, 0), Distribution::kDivide, 0, 0).has_value());
  auto share = SharePlan(Closed(10, 0), Distribution::kDivide, 1, 3);
  ASSERT_TRUE(share.has_value());
  EXPECT_FALSE(SharePlan(*share, Distribution::kDivide, 0, 2).has_value());
}

TEST(PlanSplit, DistributionNames) {
  EXPECT_EQ(*ParseDistribution("Divide"), Distribution::kDivide);
  EXPECT_EQ(*ParseDistribution("replicate"), Distribution::kReplicate);
  auto bad = ParseDistribution("split");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("divide or replicate"), std::string::npos);
}

}  // namespace
}  // namespace volley::config
