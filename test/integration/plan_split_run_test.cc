// A plan divided among three nodes (config/plan_split.h), each share run by its own engine
// in turn against one target: what the target served is exactly the whole plan. The
// cluster's process tests do the same across `volley node` processes; this checks the
// arithmetic end to end without them.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "fakes/engine_run.h"
#include "fakes/scripted_server.h"
#include "volley/config/env.h"
#include "volley/config/plan_split.h"
#include "volley/config/plan_yaml.h"
#include "volley/target/options.h"
#include "volley/target/target_server.h"

namespace volley {
namespace {

constexpr uint32_t kNodes = 3;

std::unique_ptr<target::TargetServer> StartTarget() {
  target::TargetOptions options;
  options.listen = "127.0.0.1:0";
  options.threads = 1;
  auto server = target::TargetServer::Start(options);
  EXPECT_TRUE(server.has_value()) << server.error().message;
  return server ? std::move(*server) : nullptr;
}

config::TestPlan PlanFor(uint16_t port) {
  config::TestPlan plan;
  plan.target = *config::ParseUrl("http://127.0.0.1:" + std::to_string(port) + "/x");
  plan.threads = 2;
  plan.duration = std::chrono::seconds(30);  // a bound; the tests end by budget or schedule
  plan.grace_period = std::chrono::seconds(10);
  plan.metrics_addr.clear();
  return plan;
}

// Runs every node's share of `plan` and returns the requests each made.
std::vector<uint64_t> RunShares(const config::TestPlan& plan) {
  std::vector<uint64_t> made;
  for (uint32_t i = 0; i < kNodes; ++i) {
    auto share = config::SharePlan(plan, config::Distribution::kDivide, i, kNodes);
    EXPECT_TRUE(share.has_value()) << share.error().message;
    if (!share || !config::TakesPart(*share)) {
      made.push_back(0);
      continue;
    }
    made.push_back(fakes::RunEngine(*share).summary.requests_total);
  }
  return made;
}

TEST(PlanSplitRun, ClosedModelBudgetIsServedExactlyOnceAcrossTheNodes) {
  auto target = StartTarget();
  config::TestPlan plan = PlanFor(target->port());
  plan.workers = 10;
  plan.max_requests = 3000;
  const std::vector<uint64_t> made = RunShares(plan);
  EXPECT_EQ(made, (std::vector<uint64_t>{1000, 1000, 1000}));
  EXPECT_EQ(target->Stats().responses, 3000u);
}

TEST(PlanSplitRun, OpenModelArrivalsSumToThePlansSchedule) {
  // 300/s for 2 s is 600 arrivals; each node makes every third one, at the plan's instant.
  auto target = StartTarget();
  config::TestPlan plan = PlanFor(target->port());
  plan.workers = 6;
  plan.load.kind = config::LoadModelKind::kRps;
  plan.load.target = 300;
  plan.duration = std::chrono::seconds(2);
  const std::vector<uint64_t> made = RunShares(plan);
  EXPECT_EQ(made, (std::vector<uint64_t>{200, 200, 200}));
  EXPECT_EQ(target->Stats().responses, 600u);
}

TEST(PlanSplitRun, SequentialDataRowsAreEachUsedOnceInTheWholeCluster) {
  auto server = fakes::ScriptedServer::Start({});
  ASSERT_TRUE(server.has_value()) << server.error().message;
  const std::string csv_path = testing::TempDir() + "/split_rows.csv";
  {
    std::ofstream csv(csv_path);
    csv << "id\n";
    for (int r = 0; r < 90; ++r) csv << "row" << r << "\n";
  }
  const std::string yaml = "version: \"1.0\"\nconfig: {baseUrl: \"http://127.0.0.1:" +
                           std::to_string((*server)->port()) +
                           "\", duration: 30s, workers: 4}\n"
                           "scenarios:\n  - name: S\n    dataFile: {path: \"" +
                           csv_path +
                           "\", strategy: sequential}\n"
                           "    steps: [{request: {path: \"/item/${id}\"}}]\n";
  auto plan = config::ParsePlanYaml(yaml, "split.yaml");
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  plan->threads = 2;
  plan->metrics_addr.clear();
  const std::vector<uint64_t> made = RunShares(*plan);
  EXPECT_EQ(made, (std::vector<uint64_t>{30, 30, 30}));
  (*server)->Stop();
  std::map<std::string, int> seen;
  for (const std::string& line : (*server)->request_lines()) ++seen[line];
  ASSERT_EQ(seen.size(), 90u);
  for (int r = 0; r < 90; ++r) {
    EXPECT_EQ(seen["GET /item/row" + std::to_string(r) + " HTTP/1.1"], 1) << "row " << r;
  }
}

}  // namespace
}  // namespace volley
