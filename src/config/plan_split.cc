#include "volley/config/plan_split.h"

#include <algorithm>
#include <string>

#include "volley/common/strings.h"

namespace volley::config {

Result<Distribution> ParseDistribution(std::string_view text) {
  if (EqualsIgnoreCase(text, "divide")) return Distribution::kDivide;
  if (EqualsIgnoreCase(text, "replicate")) return Distribution::kReplicate;
  return MakeError(ErrorCode::kInvalidArgument,
                   "distribution: expected divide or replicate, got '" + std::string(text) + "'");
}

const char* DistributionName(Distribution d) {
  return d == Distribution::kDivide ? "divide" : "replicate";
}

uint64_t RoundRobinShare(uint64_t total, uint64_t parts, uint64_t index) {
  return total / parts + (index < total % parts ? 1 : 0);
}

Result<TestPlan> SharePlan(const TestPlan& plan, Distribution distribution, uint32_t index,
                           uint32_t count) {
  if (count == 0 || index >= count) {
    return MakeError(ErrorCode::kInvalidArgument, "SharePlan: node " + std::to_string(index) +
                                                      " of " + std::to_string(count) +
                                                      " does not exist");
  }
  TestPlan share = plan;
  if (distribution == Distribution::kReplicate || count == 1) return share;
  if (!plan.segment.whole()) {
    return MakeError(ErrorCode::kInvalidArgument, "SharePlan: the plan is a share already");
  }
  const auto workers = static_cast<uint64_t>(std::max(0, plan.workers));
  if (plan.load.open()) {
    // One arrival sequence dealt round-robin: every node keeps a connection to carry its
    // arrivals, however small the pool.
    share.segment = Segment{index, count};
    share.workers = static_cast<int>(std::max<uint64_t>(1, RoundRobinShare(workers, count, index)));
    if (plan.load.max_in_flight > 0) {
      share.load.max_in_flight =
          std::max<uint64_t>(1, RoundRobinShare(plan.load.max_in_flight, count, index));
    }
    if (plan.max_requests > 0) {
      share.max_requests = RoundRobinShare(plan.max_requests, count, index);
    }
  } else {
    // Closed model: users and budget in parts; with fewer users than nodes, the first
    // `workers` nodes take one each.
    const uint64_t parts = std::max<uint64_t>(1, std::min<uint64_t>(count, workers));
    if (index >= parts) {
      share.workers = 0;
      share.max_requests = 0;
      share.segment = Segment{index, count};
      return share;
    }
    share.segment = Segment{index, static_cast<uint32_t>(parts)};
    share.workers = static_cast<int>(RoundRobinShare(workers, parts, index));
    if (plan.max_requests > 0)
      share.max_requests = RoundRobinShare(plan.max_requests, parts, index);
  }
  // A budget smaller than the nodes leaves some with none, and 0 would mean "no limit".
  if (plan.max_requests > 0 && share.max_requests == 0) share.workers = 0;
  return share;
}

bool TakesPart(const TestPlan& share) { return share.workers > 0; }

}  // namespace volley::config
