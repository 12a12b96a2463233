#include "cluster_report.h"

#include <gtest/gtest.h>

#include "control_api.h"
#include "volley/metrics/names.h"
#include "volley/wire/volley_metrics.h"

namespace volley::cli {
namespace {

namespace names = metrics::names;
using metrics::SeriesKey;

constexpr int64_t kStart = 1'700'000'000'000'000'000;

// A node's final checkpoint: `requests` requests with latencies `us`..`us`+9 microseconds
// (one each, cyclically) and `errors` timeouts.
std::string Checkpoint(const std::string& node, const std::string& region, uint64_t requests,
                       uint64_t us, uint64_t errors) {
  wire::node::NodeCheckpoint c;
  c.batch.id = wire::node::BatchIdentity{node, region, "r1", 9, kStart + 4'000'000'000, true};
  metrics::Snapshot& s = c.batch.snapshot;
  s.Put(SeriesKey(names::kRequests), metrics::Counter{static_cast<double>(requests)});
  s.Put(SeriesKey(names::kStatusCodes, {{"status_code", "200"}}),
        metrics::Counter{static_cast<double>(requests - errors)});
  if (errors > 0) {
    s.Put(SeriesKey(names::kErrors, {{"category", "timeout"}}),
          metrics::Counter{static_cast<double>(errors)});
  }
  metrics::Histogram h(1e-6);
  for (uint64_t i = 0; i < requests; ++i) h.RecordUnits(us + i % 10);
  s.Put(SeriesKey(names::kDuration), h);
  auto bytes = wire::node::EncodeNodeCheckpoint(c);
  EXPECT_TRUE(bytes.has_value()) << bytes.error().message;
  return bytes.value_or("");
}

cluster::RunRecord EndedRun() {
  cluster::RunRecord run;
  run.submit.run_id = "r1";
  run.submit.participants = {"a", "b", "c"};
  run.phase = cluster::RunPhase::kEnded;
  run.start_unix = Nanos(kStart);
  run.outcomes["a"] = {false, "{\"duration_s\":4.0}", Checkpoint("a", "eu", 1000, 1000, 0)};
  run.outcomes["b"] = {false, "{\"duration_s\":5.0}", Checkpoint("b", "eu", 500, 3000, 5)};
  run.outcomes["c"] = {false, "{\"duration_s\":4.0}", Checkpoint("c", "us", 2000, 20000, 0)};
  return run;
}

config::TestPlan Plan(const std::string& thresholds) {
  auto plan = NodePlanFrom(
      "version: \"1.0\"\nconfig:\n  baseUrl: \"http://127.0.0.1:9\"\n  duration: 5s\n"
      "load:\n  model: concurrent\nthresholds:\n" +
          thresholds,
      "plan.yaml");
  EXPECT_TRUE(plan.has_value()) << plan.error().message;
  return plan.value_or(config::TestPlan{});
}

TEST(ClusterReport, TotalsAreTheExactSumOfTheCheckpointsGlobalPerRegionAndPerNode) {
  const config::TestPlan plan = Plan("  http_req_duration: [\"p(50)<1s\"]\n");
  const ClusterReport r = BuildClusterReport(EndedRun(), &plan);
  EXPECT_EQ(r.run_id, "r1");
  EXPECT_FALSE(r.partial);
  EXPECT_EQ(r.exit_code, 0);
  const auto& s = r.summary;
  EXPECT_EQ(s["requests_total"], 3500u) << s.dump();
  EXPECT_EQ(s["errors"]["timeout"], 5u);
  EXPECT_DOUBLE_EQ(s["duration_s"].get<double>(), 5.0);  // the longest share
  EXPECT_DOUBLE_EQ(s["rps"].get<double>(), 700.0);
  // The global median is that of the union: 2000 of 3500 samples are c's (~20 ms).
  EXPECT_NEAR(s["latency_ms"]["p50"].get<double>(), 20.0, 0.2);
  ASSERT_EQ(s["regions"].size(), 2u);
  EXPECT_EQ(s["regions"][0]["region"], "eu");
  EXPECT_EQ(s["regions"][0]["requests"], 1500u);
  EXPECT_EQ(s["regions"][0]["errors"], 5u);
  EXPECT_EQ(s["regions"][0]["nodes"], nlohmann::json({"a", "b"}));
  EXPECT_EQ(s["regions"][1]["requests"], 2000u);
  ASSERT_EQ(s["nodes"].size(), 3u);
  EXPECT_EQ(s["nodes"][1]["node_id"], "b");
  EXPECT_EQ(s["nodes"][1]["requests"], 500u);
  EXPECT_DOUBLE_EQ(s["nodes"][1]["rps"].get<double>(), 100.0);
  EXPECT_NEAR(s["nodes"][1]["latency_ms"]["max"].get<double>(), 3.009, 0.03);
  EXPECT_TRUE(s["lost_nodes"].empty());
  EXPECT_NE(r.text.find("cluster run r1: 3 nodes"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("Per region:"), std::string::npos);
  EXPECT_NE(r.text.find("Per node:"), std::string::npos);
  EXPECT_EQ(r.text.find("PARTIAL"), std::string::npos);
  EXPECT_EQ(ClusterReportJson(r)["exit_code"], 0);
}

TEST(ClusterReport, ARegionThresholdIsEvaluatedOnThatRegionAlone) {
  // eu's p(99) is ~3 ms, us's ~20 ms, the global one ~20 ms.
  config::TestPlan plan = Plan("  'http_req_duration{region:eu}': [\"p(99)<10ms\"]\n");
  ClusterReport r = BuildClusterReport(EndedRun(), &plan);
  EXPECT_EQ(r.exit_code, 0) << r.text;
  ASSERT_EQ(r.summary["thresholds"].size(), 1u);
  EXPECT_FALSE(r.summary["thresholds"][0]["no_data"].get<bool>());
  EXPECT_NEAR(r.summary["thresholds"][0]["observed"].get<double>(), 0.003, 0.0001);
  plan = Plan("  'http_req_duration{region:us}': [\"p(99)<10ms\"]\n");
  r = BuildClusterReport(EndedRun(), &plan);
  EXPECT_EQ(r.exit_code, 99) << r.text;
  EXPECT_NE(r.text.find("FAIL"), std::string::npos) << r.text;
  // A global threshold counts every node once (the per-region series are not added in).
  plan = Plan("  http_reqs: [\"count==3500\"]\n");
  EXPECT_EQ(BuildClusterReport(EndedRun(), &plan).exit_code, 0);
}

TEST(ClusterReport, ALostNodeWithoutASnapshotMakesThePartialResultSaySo) {
  cluster::RunRecord run = EndedRun();
  run.outcomes["c"] = {true, "", ""};
  ClusterReport r = BuildClusterReport(run, nullptr);
  EXPECT_TRUE(r.partial);
  EXPECT_EQ(r.summary["requests_total"], 1500u);
  EXPECT_EQ(r.summary["lost_nodes"], nlohmann::json({"c"}));
  EXPECT_EQ(r.summary["nodes"][2]["outcome"], "lost (no snapshot)");
  EXPECT_FALSE(r.summary["nodes"][2]["snapshot"].get<bool>());
  EXPECT_NE(r.text.find("PARTIAL RESULT: 1 of 3 nodes were lost or not measured"),
            std::string::npos)
      << r.text;
  EXPECT_NE(r.text.find("thresholds not evaluated"), std::string::npos);
  // A lost node with the checkpoint its coordinator received counts it; its share's length
  // runs from the start instant to the checkpoint.
  run.outcomes["c"] = {true, "", Checkpoint("c", "us", 2000, 20000, 0)};
  r = BuildClusterReport(run, nullptr);
  EXPECT_TRUE(r.partial);
  EXPECT_EQ(r.summary["requests_total"], 3500u);
  EXPECT_EQ(r.summary["nodes"][2]["outcome"], "lost");
  EXPECT_DOUBLE_EQ(r.summary["nodes"][2]["duration_s"].get<double>(), 4.0);
}

TEST(ClusterReport, ADoneNodeThatSentRequestsButLeftNoSnapshotMakesItPartialToo) {
  cluster::RunRecord run = EndedRun();
  run.outcomes["b"] = {false, "{\"duration_s\":5.0,\"requests_total\":500}", ""};
  run.outcomes["c"] = {false, "{\"skipped\":\"no share of the plan\"}", ""};
  const ClusterReport r = BuildClusterReport(run, nullptr);
  EXPECT_TRUE(r.partial);
  EXPECT_EQ(r.summary["requests_total"], 1000u);
  EXPECT_EQ(r.summary["unmeasured_nodes"], nlohmann::json({"b"}));
  EXPECT_TRUE(r.summary["lost_nodes"].empty());
  EXPECT_GT(r.summary["nodes"][0]["checkpoint_bytes"].get<size_t>(), 0u);
  EXPECT_EQ(r.summary["nodes"][1]["checkpoint_bytes"], 0u);
  EXPECT_NE(r.text.find("not in the log (their summaries say they sent requests; the totals "
                        "miss them): b"),
            std::string::npos)
      << r.text;
}

}  // namespace
}  // namespace volley::cli
