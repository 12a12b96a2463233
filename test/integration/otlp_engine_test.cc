// A hanging OTLP endpoint must not delay the load test: the engine runs an open model
// against the built-in target while the OTLP reporter exports to a receiver that never
// answers. The schedule's exact arrival count must be met in time, collections must keep
// their interval, and Stop must return by its deadline.
#include <gtest/gtest.h>

#include "fakes/otlp_test_receiver.h"
#include "volley/config/env.h"
#include "volley/engine/engine.h"
#include "volley/metrics/collector.h"
#include "volley/metrics/names.h"
#include "volley/output/otlp_output.h"
#include "volley/target/options.h"
#include "volley/target/target_server.h"

namespace volley {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(OtlpEngine, HangingEndpointDoesNotDelayTheTest) {
  auto rx = output::testing::TestReceiver::Start(
      0, [](uint64_t) { return output::testing::Answer{.hang = true}; });
  ASSERT_NE(rx, nullptr);
  target::TargetOptions topts;
  topts.listen = "127.0.0.1:0";
  auto server = target::TargetServer::Start(topts);
  ASSERT_TRUE(server.has_value()) << server.error().message;

  config::TestPlan plan;
  plan.target = *config::ParseUrl("http://127.0.0.1:" + std::to_string((*server)->port()) + "/");
  plan.threads = 2;
  plan.workers = 8;
  plan.load.kind = config::LoadModelKind::kRps;
  plan.load.target = 400;
  plan.duration = seconds(3);
  auto engine = engine::Engine::Create(plan);
  ASSERT_TRUE(engine.has_value()) << engine.error().message;

  const Clock& clock = SteadyClock::Instance();
  metrics::Collector collector(clock.Now());
  output::OutputContext ctx;
  ctx.collector_start = clock.Now();
  ctx.wall_start_unix_nanos = 1'700'000'000'000'000'000;
  ctx.run_id = "r";
  ctx.node_id = "n";
  auto otlp =
      output::OtlpOutput::Create(rx->url(), {{"interval", "100ms"}, {"timeout", "60s"}}, {}, ctx);
  ASSERT_TRUE(otlp.has_value()) << otlp.error().message;
  (*otlp)->set_log_sink([](const std::string&) {});
  ASSERT_TRUE((*otlp)->Start(collector).has_value());

  auto info = (*engine)->Run(collector, nullptr);
  ASSERT_TRUE(info.has_value()) << info.error().message;
  const auto t0 = std::chrono::steady_clock::now();
  (*otlp)->Stop(clock.Now() + milliseconds(500));
  const auto stop_took = std::chrono::steady_clock::now() - t0;
  rx->Stop();

  // The schedule has exactly 1200 arrivals, all sent and answered: the engine's achieved
  // rate is the planned one although every export hung.
  const metrics::Snapshot s = collector.Cumulative();
  EXPECT_EQ(s.SumCounter(metrics::names::kRequests), 1200.0);
  EXPECT_EQ(s.SumCounter(metrics::names::kDroppedIterations), 0.0);
  EXPECT_LT(info->elapsed, seconds(3) + seconds(2));
  // The reporter kept collecting every 100 ms while its exporter hung (about 30 in 3 s; at
  // least a third of that on a loaded machine), and Stop kept its deadline.
  EXPECT_GE((*otlp)->collections(), 10u);
  EXPECT_GE(rx->requests(), 1u);
  EXPECT_EQ((*otlp)->stats().exports_ok, 0u);
  EXPECT_LT(stop_took, seconds(10));  // the request timeout is 60 s
}

}  // namespace
}  // namespace volley
