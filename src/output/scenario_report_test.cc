// The scenario/step and threshold parts of the summary, report and JSON (scenario_report.h).
#include "scenario_report.h"

#include <gtest/gtest.h>

#include "volley/metrics/names.h"
#include "volley/metrics/threshold.h"
#include "volley/output/summary.h"

namespace volley::output {
namespace {

namespace names = metrics::names;
using metrics::Counter;
using metrics::SeriesKey;

// from..to milliseconds at 1 ms resolution: every percentile is exact.
metrics::Histogram Millis(int from, int to) {
  metrics::Histogram h(1e-3);
  for (int i = from; i <= to; ++i) h.RecordUnits(static_cast<uint64_t>(i));
  return h;
}

metrics::Snapshot ScenarioSnapshot() {
  metrics::Snapshot s;
  s.Put(SeriesKey(names::kRequests), Counter{420});
  s.Put(SeriesKey(names::kDuration, {{"scenario", "Browse"}}), Millis(1, 50));
  s.Put(SeriesKey(names::kScenarioRequests, {{"scenario", "Browse"}, {"node_id", "a"}}),
        Counter{300});
  s.Put(SeriesKey(names::kScenarioRequests, {{"scenario", "Browse"}, {"node_id", "b"}}),
        Counter{100});
  s.Put(SeriesKey(names::kScenarioRequests, {{"scenario", "Buy"}}), Counter{20});
  s.Put(SeriesKey(names::kScenarioExecutions, {{"scenario", "Browse"}, {"status", "success"}}),
        Counter{190});
  s.Put(SeriesKey(names::kScenarioExecutions, {{"scenario", "Browse"}, {"status", "failure"}}),
        Counter{10});
  s.Put(SeriesKey(names::kScenarioExecutions, {{"scenario", "Buy"}, {"status", "success"}}),
        Counter{20});
  s.Put(SeriesKey(names::kScenarioDuration, {{"scenario", "Browse"}}), Millis(1, 200));
  auto step = [](const char* scenario, const char* step, metrics::Labels more = {}) {
    more.emplace_back("scenario", scenario);
    more.emplace_back("step", step);
    return more;
  };
  s.Put(SeriesKey(names::kStepsTotal, step("Browse", "Home", {{"status", "success"}})),
        Counter{200});
  s.Put(SeriesKey(names::kStepsTotal, step("Browse", "Search", {{"status", "success"}})),
        Counter{190});
  s.Put(SeriesKey(names::kStepsTotal, step("Browse", "Search", {{"status", "failure"}})),
        Counter{10});
  s.Put(SeriesKey(names::kStepsTotal, step("Buy", "Pay", {{"status", "success"}})), Counter{20});
  s.Put(SeriesKey(names::kStepDuration, step("Browse", "Home")), Millis(1, 100));
  s.Put(SeriesKey(names::kStepDuration, step("Browse", "Search")), Millis(1, 200));
  s.Put(SeriesKey(names::kStepStatusCodes, step("Browse", "Home", {{"status_code", "200"}})),
        Counter{200});
  s.Put(SeriesKey(names::kStepStatusCodes, step("Browse", "Search", {{"status_code", "200"}})),
        Counter{190});
  s.Put(SeriesKey(names::kStepStatusCodes, step("Browse", "Search", {{"status_code", "500"}})),
        Counter{10});
  s.Put(SeriesKey(names::kAssertions, step("Browse", "Search", {{"result", "passed"}})),
        Counter{380});
  s.Put(SeriesKey(names::kAssertions, step("Browse", "Search", {{"result", "failed"}})),
        Counter{10});
  s.Put(SeriesKey(names::kDataExhausted, {{"scenario", "Buy"}}), Counter{3});
  return s;
}

Summary ScenarioSummaryOf(const metrics::Snapshot& snap) {
  RunFacts facts;
  facts.elapsed = std::chrono::seconds(10);
  facts.plan_order = {{"Buy", {"Pay"}}, {"Browse", {"Search", "Home", "Never"}}};
  return Summarize(snap, facts);
}

TEST(ScenarioSummary, PerScenarioFiguresInPlanOrder) {
  const Summary s = ScenarioSummaryOf(ScenarioSnapshot());
  ASSERT_EQ(s.scenarios.size(), 2u);
  EXPECT_EQ(s.scenarios[0].name, "Buy");
  const ScenarioSummary& b = s.scenarios[1];
  EXPECT_EQ(b.name, "Browse");
  EXPECT_EQ(b.requests, 400u);  // two nodes added
  EXPECT_DOUBLE_EQ(b.rps, 40);
  EXPECT_EQ(b.iterations_ok, 190u);
  EXPECT_EQ(b.iterations_failed, 10u);
  EXPECT_EQ(b.iterations(), 200u);
  EXPECT_DOUBLE_EQ(b.iterations_per_s, 20);
  EXPECT_EQ(b.errors, 10u);  // failed steps
  EXPECT_EQ(b.iteration.count, 200u);
  EXPECT_DOUBLE_EQ(b.iteration.mean, 0.1005);
  EXPECT_DOUBLE_EQ(b.iteration.p50, 0.100);
  EXPECT_DOUBLE_EQ(b.iteration.max, 0.200);
  EXPECT_EQ(b.request_latency.count, 50u);
  EXPECT_DOUBLE_EQ(b.request_latency.max, 0.050);
  EXPECT_EQ(b.data_exhausted, 0u);
  EXPECT_EQ(s.scenarios[0].data_exhausted, 3u);
  EXPECT_EQ(s.scenarios[0].requests, 20u);
  EXPECT_EQ(s.scenarios[0].request_latency.count, 0u);
}

TEST(ScenarioSummary, PerStepFigures) {
  const Summary s = ScenarioSummaryOf(ScenarioSnapshot());
  const std::vector<StepSummary>& steps = s.scenarios.at(1).steps;
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].name, "Search");  // the plan's order
  EXPECT_EQ(steps[1].name, "Home");
  EXPECT_EQ(steps[2].name, "Never");  // in the plan, never ran
  const StepSummary& search = steps[0];
  EXPECT_EQ(search.count, 200u);
  EXPECT_EQ(search.failed, 10u);
  EXPECT_DOUBLE_EQ(search.rps, 20);
  EXPECT_EQ(search.assertions_passed, 380u);
  EXPECT_EQ(search.assertions_failed, 10u);
  EXPECT_EQ(search.status_codes, (std::map<std::string, uint64_t>{{"200", 190}, {"500", 10}}));
  EXPECT_DOUBLE_EQ(search.latency.p95, 0.190);
  EXPECT_DOUBLE_EQ(search.latency.p99, 0.198);
  EXPECT_DOUBLE_EQ(search.latency.p999, 0.200);
  const StepSummary& home = steps[1];
  EXPECT_EQ(home.count, 200u);
  EXPECT_EQ(home.failed, 0u);
  EXPECT_EQ(home.latency.count, 100u);
  EXPECT_DOUBLE_EQ(home.latency.p90, 0.090);
  EXPECT_EQ(steps[2].count, 0u);
  EXPECT_EQ(steps[2].latency.count, 0u);
}

TEST(ScenarioSummary, WithoutPlanOrderScenariosAndStepsAreAlphabetical) {
  RunFacts facts;
  facts.elapsed = std::chrono::seconds(10);
  const Summary s = Summarize(ScenarioSnapshot(), facts);
  ASSERT_EQ(s.scenarios.size(), 2u);
  EXPECT_EQ(s.scenarios[0].name, "Browse");
  ASSERT_EQ(s.scenarios[0].steps.size(), 2u);
  EXPECT_EQ(s.scenarios[0].steps[0].name, "Home");
  EXPECT_EQ(s.scenarios[0].steps[1].name, "Search");
}

TEST(ScenarioReport, TablePerScenarioWithAlignedColumnsInMs) {
  const std::string r = FormatReport(ScenarioSummaryOf(ScenarioSnapshot()));
  const char* expected[] = {
      "\n  scenario Browse: 400 requests (40.0/s), 200 iterations (190 ok, 10 failed), mean "
      "100.5ms, 10 failed steps\n",
      "    step             count       rps    errors    p50 ms    p90 ms    p95 ms    p99 ms  "
      "p99.9 ms    max ms\n",
      "    Search             200      20.0        10    100.00    180.00    190.00    198.00    "
      "200.00    200.00\n",
      "    Home               200      20.0         0     50.00     90.00     95.00     99.00    "
      "100.00    100.00\n",
      "    Never                0       0.0         0         -\n",
      "    (iteration)        200      20.0        10    100.00    180.00    190.00    198.00    "
      "200.00    200.00\n",
      "    (requests)         400      40.0         -     25.00     45.00     48.00     50.00     "
      "50.00     50.00\n",
      "    Search: status 200: 190, 500: 10; assertions 380 passed, 10 failed\n",
      "    Home: status 200: 200\n",
      "  scenario Buy: 20 requests (2.0/s), 20 iterations (20 ok, 0 failed), mean -, 0 failed "
      "steps\n",
      "    3 users stopped: the sequential data file ran out of rows\n",
  };
  for (const char* line : expected) EXPECT_NE(r.find(line), std::string::npos) << line << r;
  EXPECT_LT(r.find("scenario Buy"), r.find("scenario Browse"));  // plan order
  EXPECT_EQ(r.find("thresholds"), std::string::npos);
}

TEST(ScenarioReport, LongStepNamesAreCutToTheColumn) {
  metrics::Snapshot snap;
  const std::string name = "A very long step name that goes on and on";
  snap.Put(
      SeriesKey(names::kStepsTotal, {{"scenario", "S"}, {"step", name}, {"status", "success"}}),
      Counter{5});
  RunFacts facts;
  facts.elapsed = std::chrono::seconds(1);
  const std::string r = FormatReport(Summarize(snap, facts));
  EXPECT_NE(
      r.find("    A very long step name that goes…         5       5.0         0         -\n"),
      std::string::npos)
      << r;
}

TEST(ScenarioReport, SingleRequestModeHasNoScenarioOrThresholdSection) {
  metrics::Snapshot snap;
  snap.Put(SeriesKey(names::kRequests), Counter{10});
  snap.Put(SeriesKey(names::kDuration), Millis(1, 10));
  RunFacts facts;
  facts.elapsed = std::chrono::seconds(1);
  facts.plan_order = {{"Unused", {"step"}}};  // no scenario series: no tables
  const Summary s = Summarize(snap, facts);
  EXPECT_TRUE(s.scenarios.empty());
  EXPECT_FALSE(s.thresholds_failed());
  const std::string r = FormatReport(s);
  EXPECT_EQ(r.find("scenario"), std::string::npos) << r;
  EXPECT_EQ(r.find("thresholds"), std::string::npos) << r;
  EXPECT_TRUE(r.ends_with("error categories none\n")) << r;
  const nlohmann::json j = ToJson(s);
  EXPECT_EQ(j["scenarios"], nlohmann::json::array());
  EXPECT_EQ(j["thresholds"], nlohmann::json::array());
  EXPECT_EQ(j["thresholds_failed"], false);
}

TEST(ScenarioReport, ThresholdsMarkedPassOrFailWithTheObservedValue) {
  Summary s = ScenarioSummaryOf(ScenarioSnapshot());
  s.thresholds = {{.metric = "http_req_duration",
                   .condition = "p(95)<200ms",
                   .passed = true,
                   .observed = 0.18,
                   .observed_text = "p(95)=180.00ms"},
                  {.metric = "http_req_failed",
                   .condition = "rate<0.01",
                   .passed = false,
                   .observed = 0.02,
                   .observed_text = "rate=2.00%"},
                  {.metric = "checks{scenario:Nope}",
                   .condition = "rate>0.9",
                   .passed = true,
                   .no_data = true,
                   .observed_text = "no data"}};
  EXPECT_TRUE(s.thresholds_failed());
  const std::string r = FormatReport(s);
  EXPECT_NE(r.find("\n  thresholds: 1 of 3 FAILED\n"
                   "    PASS  http_req_duration      p(95)<200ms  p(95)=180.00ms\n"
                   "    FAIL  http_req_failed        rate<0.01    rate=2.00%\n"
                   "    PASS  checks{scenario:Nope}  rate>0.9     no data\n"),
            std::string::npos)
      << r;
  const nlohmann::json j = ToJson(s);
  ASSERT_EQ(j["thresholds"].size(), 3u);
  EXPECT_EQ(j["thresholds"][1]["metric"], "http_req_failed");
  EXPECT_EQ(j["thresholds"][1]["condition"], "rate<0.01");
  EXPECT_EQ(j["thresholds"][1]["passed"], false);
  EXPECT_DOUBLE_EQ(j["thresholds"][1]["observed"].get<double>(), 0.02);
  EXPECT_EQ(j["thresholds"][2]["no_data"], true);
  EXPECT_EQ(j["thresholds_failed"], true);
  s.thresholds.erase(s.thresholds.begin() + 1);
  EXPECT_FALSE(s.thresholds_failed());
  EXPECT_NE(FormatReport(s).find("\n  thresholds: all 2 passed\n"), std::string::npos);
}

TEST(ScenarioReport, ThresholdsEvaluatedOverTheSameSnapshot) {
  const metrics::Snapshot snap = ScenarioSnapshot();
  Summary s = ScenarioSummaryOf(snap);
  const std::pair<const char*, std::vector<std::string>> plan[] = {
      {"scenario_step_duration_seconds{scenario:Browse,step:Search}",
       {"p(95)<=190ms", "p(99)<198"}},
      {"checks", {"rate>0.97"}},
      {"iterations{scenario:Browse}", {"count==200"}}};
  for (const auto& [metric, conditions] : plan) {
    auto compiled = metrics::CompileThreshold(metric, conditions);
    ASSERT_TRUE(compiled.has_value()) << compiled.error().message;
    for (auto& r : metrics::Evaluate(*compiled, snap, s.facts.elapsed)) {
      s.thresholds.push_back(std::move(r));
    }
  }
  ASSERT_EQ(s.thresholds.size(), 4u);
  EXPECT_TRUE(s.thresholds[0].passed);
  EXPECT_FALSE(s.thresholds[1].passed);  // p(99) is 198 ms
  EXPECT_DOUBLE_EQ(s.thresholds[2].observed, 380.0 / 390);
  EXPECT_TRUE(s.thresholds[3].passed);
  EXPECT_TRUE(s.thresholds_failed());
  const std::string r = FormatReport(s);
  EXPECT_NE(r.find("FAIL  scenario_step_duration_seconds{scenario:Browse,step:Search}  p(99)<198"
                   "     p(99)=198.00ms\n"),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("PASS  checks"), std::string::npos);
}

TEST(ScenarioJson, ScenariosAndStepsWithTheirFigures) {
  const nlohmann::json j = ToJson(ScenarioSummaryOf(ScenarioSnapshot()));
  ASSERT_EQ(j["scenarios"].size(), 2u);
  const nlohmann::json& b = j["scenarios"][1];
  EXPECT_EQ(b["name"], "Browse");
  EXPECT_EQ(b["requests"], 400);
  EXPECT_DOUBLE_EQ(b["rps"].get<double>(), 40);
  EXPECT_EQ(b["errors"], 10);
  EXPECT_EQ(b["iterations"]["success"], 190);
  EXPECT_EQ(b["iterations"]["failure"], 10);
  EXPECT_DOUBLE_EQ(b["iteration_ms"]["mean"].get<double>(), 100.5);
  EXPECT_DOUBLE_EQ(b["request_latency_ms"]["max"].get<double>(), 50);
  ASSERT_EQ(b["steps"].size(), 3u);
  const nlohmann::json& search = b["steps"][0];
  EXPECT_EQ(search["name"], "Search");
  EXPECT_EQ(search["count"], 200);
  EXPECT_EQ(search["errors"], 10);
  EXPECT_EQ(search["assertions"]["passed"], 380);
  EXPECT_EQ(search["assertions"]["failed"], 10);
  EXPECT_EQ(search["status_codes"]["500"], 10);
  EXPECT_DOUBLE_EQ(search["latency_ms"]["p99"].get<double>(), 198);
  EXPECT_DOUBLE_EQ(search["latency_ms"]["p999"].get<double>(), 200);
  EXPECT_FALSE(j["scenarios"][0].contains("request_latency_ms"));  // Buy's are not labelled
  EXPECT_EQ(j["scenarios"][0]["data_exhausted"], 3);
}

}  // namespace
}  // namespace volley::output
