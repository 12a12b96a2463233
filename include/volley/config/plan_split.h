// Dividing one test plan exactly among the nodes of a cluster (DESIGN.md §5, `divide`), or
// running it whole on each (`replicate`). Pure arithmetic on TestPlan values: no I/O.
//
// `divide` guarantees that the parts, run together, are the plan:
// - open models (rps, ramp, stages, daily traffic): node i of n makes the arrivals
//   k ≡ i (mod n) of the plan's one arrival sequence, at the plan's instants, so the union
//   of the nodes' schedules is the plan's schedule, instant for instant, and each node's
//   count is within one of every other's; a MAX_REQUESTS budget of arrivals splits the
//   same way, and so do the connection pool and the in-flight cap (at least 1 each);
// - the closed model: connections (virtual users) and the request budget are each split
//   into parts that sum to the whole (sizes differ by at most one); when there are fewer
//   connections than nodes, only the first `connections` nodes take part;
// - sequential data files: node i uses the rows r ≡ i (mod n), so every row is used once in
//   the whole cluster. Random and cycle files are used whole by every node.
#pragma once

#include <cstdint>

#include "volley/common/result.h"
#include "volley/config/test_plan.h"

namespace volley::config {

// (Distribution is declared in test_plan.h.)
// "divide" | "replicate" (any case).
Result<Distribution> ParseDistribution(std::string_view text);
const char* DistributionName(Distribution d);

// The number of k in [0, total) with k % parts == index: the size of part `index` when
// `total` items are dealt round-robin into `parts` parts. The parts sum to `total`.
// REQUIRES: parts > 0, index < parts.
uint64_t RoundRobinShare(uint64_t total, uint64_t parts, uint64_t index);

// The plan node `index` of `count` runs. kInvalidArgument when index >= count or
// count == 0. For `divide`, a node that gets no connections does not take part
// (TakesPart() is false); its plan must not be run.
Result<TestPlan> SharePlan(const TestPlan& plan, Distribution distribution, uint32_t index,
                           uint32_t count);

// False for a node's share that has nothing to do: no connections, or none of a request
// budget smaller than the number of nodes.
bool TakesPart(const TestPlan& share);

}  // namespace volley::config
