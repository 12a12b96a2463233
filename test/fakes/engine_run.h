// Runs one plan through the engine in-process and returns what it measured: the shared
// harness of the integration tests.
#pragma once

#include <cstddef>

#include "volley/config/test_plan.h"
#include "volley/engine/engine.h"
#include "volley/metrics/snapshot.h"
#include "volley/output/summary.h"

namespace volley::fakes {

struct EngineOutcome {
  engine::RunInfo info;
  metrics::Snapshot snapshot;
  output::Summary summary;
  size_t request_size = 0;  // bytes of one serialized request
};

// Validates and runs `plan` on the calling thread (blocking), recording gtest failures for
// anything that goes wrong on the way. With `must_end_by_budget`, it also fails when the
// run lasted its whole `duration`: tests that end by request count use the duration only
// as a bound on a broken run.
EngineOutcome RunEngine(const config::TestPlan& plan, bool must_end_by_budget = false);

// The value of counter `name` with exactly `labels` in `s`, 0 when there is none.
inline double CounterIn(const metrics::Snapshot& s, const char* name,
                        const metrics::Labels& labels) {
  const metrics::Counter* c = s.FindCounter(name, labels);
  return c ? c->value : 0;
}

}  // namespace volley::fakes
