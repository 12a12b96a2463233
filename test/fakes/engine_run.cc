#include "fakes/engine_run.h"

#include <gtest/gtest.h>

#include "volley/config/env.h"
#include "volley/metrics/collector.h"

namespace volley::fakes {

EngineOutcome RunEngine(const config::TestPlan& plan, bool must_end_by_budget) {
  EngineOutcome o;
  auto valid = config::Validate(plan);
  EXPECT_TRUE(valid.has_value()) << valid.error().message;
  auto engine = engine::Engine::Create(plan);
  EXPECT_TRUE(engine.has_value()) << engine.error().message;
  if (!engine) return o;
  o.request_size = (*engine)->request_bytes().size();
  metrics::Collector collector(MonotonicNow());
  auto info = (*engine)->Run(collector, nullptr);
  EXPECT_TRUE(info.has_value()) << info.error().message;
  if (!info) return o;
  o.info = *info;
  if (must_end_by_budget) {
    // A run the deadline ends lasts at least `duration` by construction.
    EXPECT_LT(o.info.elapsed, plan.duration) << "the run went on after its budget was spent";
  }
  o.snapshot = collector.Cumulative();
  output::RunFacts facts;
  facts.elapsed = info->elapsed;
  facts.open_model = info->open_model;
  o.summary = output::Summarize(o.snapshot, facts);
  return o;
}

}  // namespace volley::fakes
