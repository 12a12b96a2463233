// The engine against the built-in target on loopback: what volley counts must be what the
// target served.
#include <gtest/gtest.h>

#include "fakes/engine_run.h"
#include "volley/config/env.h"
#include "volley/engine/engine.h"
#include "volley/metrics/collector.h"
#include "volley/metrics/names.h"
#include "volley/output/summary.h"
#include "volley/target/options.h"
#include "volley/target/target_server.h"

namespace volley {
namespace {

namespace names = metrics::names;

using Outcome = fakes::EngineOutcome;

std::unique_ptr<target::TargetServer> StartTarget(target::TargetOptions options) {
  options.listen = "127.0.0.1:0";
  auto server = target::TargetServer::Start(options);
  EXPECT_TRUE(server.has_value()) << server.error().message;
  return std::move(*server);
}

config::TestPlan PlanFor(const target::TargetServer& server) {
  config::TestPlan plan;
  plan.target = *config::ParseUrl("http://127.0.0.1:" + std::to_string(server.port()) + "/x");
  plan.threads = 2;
  plan.workers = 8;
  plan.duration = std::chrono::seconds(30);  // upper bound; tests end by count or schedule
  return plan;
}

Outcome RunPlan(const config::TestPlan& plan) { return fakes::RunEngine(plan); }

TEST(EngineTarget, ClosedModelCountEqualsWhatTheTargetServed) {
  auto server = StartTarget({});
  auto plan = PlanFor(*server);
  plan.max_requests = 5000;
  Outcome o = RunPlan(plan);
  const target::TargetStats stats = server->Stats();
  EXPECT_EQ(o.summary.requests_total, 5000u);
  EXPECT_EQ(stats.responses, 5000u);
  EXPECT_EQ(o.summary.status_codes.at("200"), 5000u);
  EXPECT_EQ(o.summary.errors_total, 0u);
  EXPECT_EQ(o.summary.latency.count, 5000u);
  EXPECT_FALSE(o.info.interrupted);
  // Every response carried the 13-byte body plus headers.
  EXPECT_GT(o.summary.data_received, 5000u * 13u);
}

TEST(EngineTarget, StatusMixShowsUpAsTheTargetServedIt) {
  target::TargetOptions options;
  options.threads = 1;
  options.status_mix = {{200, 90}, {503, 10}};
  auto server = StartTarget(options);
  auto plan = PlanFor(*server);
  plan.max_requests = 3000;
  Outcome o = RunPlan(plan);
  const target::TargetStats stats = server->Stats();
  ASSERT_EQ(o.summary.requests_total, 3000u);
  EXPECT_EQ(o.summary.status_codes.at("200"), stats.by_status.at(200));
  EXPECT_EQ(o.summary.status_codes.at("503"), stats.by_status.at(503));
  EXPECT_EQ(o.summary.status_codes.at("503"), 300u);  // the target's rotation is exact
  EXPECT_EQ(o.summary.errors.at("server_error"), 300u);
}

TEST(EngineTarget, OpenModelSendsEveryArrivalOfItsScheduleAndNoneEarly) {
  auto server = StartTarget({});
  auto plan = PlanFor(*server);
  plan.load.kind = config::LoadModelKind::kRps;
  plan.load.target = 800;
  plan.duration = std::chrono::seconds(5);
  Outcome o = RunPlan(plan);
  // The schedule has exactly 4000 arrivals; every one must have been sent and answered.
  EXPECT_EQ(o.summary.requests_total, 4000u);
  EXPECT_EQ(o.summary.dropped_iterations, 0u);
  EXPECT_EQ(server->Stats().responses, 4000u);
  // The last arrival is due 4.99875 s after the start, so a pacer that sends on time
  // cannot finish sooner. (How much later it finishes depends on the machine's load, so it
  // is not asserted; pacing precision is the rate schedule's unit test and bench/'s job.)
  EXPECT_GE(o.summary.duration_s, 4.99875) << "arrivals were sent before they were due";
  ASSERT_TRUE(o.summary.from_intended.has_value());
  EXPECT_EQ(o.summary.from_intended->count, 4000u);
}

TEST(EngineTarget, StallShowsInLatencyFromIntendedTimeButNotFromActualSend) {
  // The target stops answering during [0, 1s) and [4s, 5s) of its life. With a pool of
  // four connections, only the (at most) four requests on the wire see the stall from
  // their actual send; the ~400 arrivals queued behind them see it from their intended
  // send time.
  target::TargetOptions options;
  options.stall_duration = std::chrono::seconds(1);
  options.stall_period = std::chrono::seconds(4);
  auto server = StartTarget(options);
  auto plan = PlanFor(*server);
  plan.workers = 4;
  plan.threads = 1;
  plan.load.kind = config::LoadModelKind::kRps;
  plan.load.target = 200;
  plan.duration = std::chrono::seconds(8);
  Outcome o = RunPlan(plan);
  ASSERT_EQ(o.summary.requests_total, 1600u);
  ASSERT_TRUE(o.summary.from_intended.has_value());
  EXPECT_GT(o.summary.from_intended->p99, 0.8) << "intended p99";
  EXPECT_LT(o.summary.latency.p99, 0.1) << "actual p99";
  EXPECT_GT(o.summary.latency.max, 0.5) << "the requests on the wire did see the stall";
  EXPECT_EQ(o.summary.dropped_iterations, 0u);
}

TEST(EngineTarget, InFlightCapCountsDroppedIterations) {
  target::TargetOptions options;
  options.latency_min = options.latency_max = std::chrono::milliseconds(200);
  auto server = StartTarget(options);
  auto plan = PlanFor(*server);
  plan.workers = 2;
  plan.threads = 1;
  plan.load.kind = config::LoadModelKind::kRps;
  plan.load.target = 100;
  plan.load.max_in_flight = 10;
  plan.duration = std::chrono::seconds(2);
  Outcome o = RunPlan(plan);
  // 200 arrivals; 2 connections at 200 ms each carry ~10/s; the cap of 10 turns the rest
  // into dropped iterations, and nothing is lost from the books.
  EXPECT_GT(o.summary.dropped_iterations, 100u);
  EXPECT_EQ(o.summary.dropped_iterations + o.summary.requests_total + o.info.abandoned, 200u);
}

}  // namespace
}  // namespace volley
