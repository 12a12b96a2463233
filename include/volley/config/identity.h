// What only the system knows of a plan.
#pragma once

#include "volley/config/test_plan.h"

namespace volley::config {

// Fills what the plan leaves empty and only the system knows: node_id (the hostname) and
// run_id (time-based and random, e.g. "run-20261121T0950-3fa2c1"). Never fails.
void FillIdentity(TestPlan& plan);

}  // namespace volley::config
