// The plan's `cluster:` section as a whole (see ClusterSection in test_plan.h).
#pragma once

#include "volley/common/result.h"
#include "volley/config/test_plan.h"

namespace volley::config {

// The checks of plan.cluster that span its fields, positioned by plan.origins like
// Validate's: minNodes must be reachable by the nodes that `nodes.ids` allows (when the
// subset is by id only). kInvalidArgument with every problem. plan::CheckPlan calls it.
Result<void> CheckClusterSection(const TestPlan& plan);

}  // namespace volley::config
