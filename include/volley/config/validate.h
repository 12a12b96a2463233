// The checks of a plan as a whole, after the YAML, the environment and the flags.
#pragma once

#include "volley/common/result.h"
#include "volley/config/test_plan.h"

namespace volley::config {

// Checks the plan as a whole (required fields, ranges, model parameters). All problems are
// returned together (Error::problems, kInvalidArgument), each prefixed with where the
// value was set when plan.origins knows it ("plan.yaml:9:3: load.min: must be <= load.max
// (min 500, max 100)", "MIN_RPS: load.min: ..."), else with the value's name.
Result<void> Validate(const TestPlan& plan);

}  // namespace volley::config
