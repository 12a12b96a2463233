// Process-level tests of plans: `volley validate`, plans run by `volley run` (thresholds and
// their exit code), the example plans, and `volley node`'s control API. All on 127.0.0.1.

#include <filesystem>
#include <fstream>

#include "cli_harness.h"
#include "fakes/raw_http.h"

#ifndef VOLLEY_SOURCE_DIR
#error "VOLLEY_SOURCE_DIR must name the source tree (for examples/)"
#endif

namespace volley {
namespace {

using namespace volley::testing;  // NOLINT: the harness of this test file

std::string WritePlan(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.File(name);
  std::ofstream(path) << text;
  return path;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

TEST(PlanCli, EveryExamplePlanIsValid) {
  int seen = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(VOLLEY_SOURCE_DIR) + "/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    ++seen;
    Outcome o = RunVolley({"validate", "--no-env", entry.path().string()});
    EXPECT_TRUE(o.status.Exited(0)) << o.Diagnostics();
    EXPECT_NE(o.out.find(": valid ("), std::string::npos) << o.Diagnostics();
  }
  EXPECT_GE(seen, 5);
}

// Problems only the engine and the threshold parser can find are positioned like the
// YAML's own, and `run` refuses the plan before sending anything.
TEST(PlanCli, ValidateAndRunRefuseABadPlanWithPositionedProblems) {
  Target target;
  ASSERT_TRUE(StartTarget({"--threads", "1"}, &target));
  TempDir dir;
  const std::string plan = WritePlan(dir, "bad.yaml", R"(version: "1.0"
config: {baseUrl: ")" + target.Url() + R"(", duration: 5s, workers: 0}
load: {model: rps, target: -5}
scenarios:
  - name: S
    dataFile: {path: missing.csv}
    steps:
      - request: {path: "/a/${nobody}"}
        extract: [{type: regex, name: x, regex: "no group"}]
        assertions: [{type: jsonPath, path: "$.a["}]
thresholds:
  http_req_duration: ["p(95)<20xs", "rate<0.1"]
outputs:
  - {type: carrier-pigeon}
)");
  Outcome v = RunVolley({"validate", plan});
  ASSERT_TRUE(v.status.Exited(2)) << v.Diagnostics();
  const auto lines = Lines(v.err);
  for (const char* want : {
           ":3:28: load.target: must be >= 0, got -5",
           ": config.workers: must be >= 1, got 0",
           ":5:5: scenarios[0]: dataFile: ",
           ":8:9: scenarios[0].steps[0]: extract[0]: ",
           ":8:9: scenarios[0].steps[0]: assertions[0]: ",
           ":8:9: scenarios[0].steps[0]: variable 'nobody' is set by no extraction",
           ":12:3: thresholds.http_req_duration: ",
           ":14:5: outputs[0]: unknown output type 'carrier-pigeon'",
       }) {
    bool found = false;
    for (const auto& l : lines) found = found || l.find(want) != std::string::npos;
    EXPECT_TRUE(found) << "missing '" << want << "' in\n" << v.err;
  }
  for (const auto& l : lines) EXPECT_EQ(l.rfind(plan + ":", 0), 0u) << l;
  Outcome r = RunVolley({"run", plan, "--metrics-addr", ""});
  EXPECT_TRUE(r.status.Exited(2)) << r.Diagnostics();
  EXPECT_NE(r.err.find(":3:28: load.target: must be >= 0, got -5"), std::string::npos)
      << r.Diagnostics();
  json stats;
  StopTarget(target, &stats);
  EXPECT_EQ(stats.value("requests", -1), 0) << stats.dump();
}

// The whole-plan checks (config::Validate) keep the YAML position and show the values.
TEST(PlanCli, WholePlanProblemsArePositioned) {
  TempDir dir;
  const std::string plan = WritePlan(dir, "ramp.yaml", R"(version: "1.0"
config:
  baseUrl: http://127.0.0.1:9/
  duration: 5s
  threads: 4000
load:
  model: ramp
  min: 500
  max: 100
scenarios: [{name: S, steps: [{request: {path: /}}]}]
)");
  Outcome v = RunVolley({"validate", "--no-env", plan});
  ASSERT_TRUE(v.status.Exited(2)) << v.Diagnostics();
  const auto lines = Lines(v.err);
  ASSERT_EQ(lines.size(), 2u) << v.err;
  EXPECT_EQ(lines[0], plan + ":5:12: config.threads: must be between 0 and 1024, got 4000");
  EXPECT_EQ(lines[1], plan + ":8:8: load.min: must be <= load.max (min 500, max 100)");
  static const std::regex kPositioned(R"(^.+:\d+:\d+: .+)");
  for (const auto& l : lines) EXPECT_TRUE(std::regex_match(l, kPositioned)) << l;
}

// The shop example uses every feature of the seed project's plan format; it runs unchanged
// (only shortened and pointed at the test's target through the environment).
TEST(PlanCli, TheShopExampleRunsAgainstTheTarget) {
  Target target;
  ASSERT_TRUE(StartTarget({"--threads", "1", "--body",
                           R"({"id":7,"token":"t-1","status":"active","items":[{"sku":"A-1"}]})"},
                          &target));
  TempDir dir;
  const std::string out = dir.File("summary.json");
  Outcome o = RunVolley({"run", std::string(VOLLEY_SOURCE_DIR) + "/examples/shop.yaml", "-q",
                         "--metrics-addr", "", "--summary-export", out},
                        CleanEnv({{"TARGET_URL", target.Url()}, {"TEST_DURATION", "3s"}}));
  ASSERT_TRUE(o.status.Exited(0) || o.status.Exited(99)) << o.Diagnostics();
  const json summary = ParseJson(ReadFile(out));
  ASSERT_TRUE(summary.contains("scenarios")) << summary.dump();
  uint64_t requests = 0;
  for (const auto& sc : summary["scenarios"]) requests += sc.value("requests", 0ull);
  EXPECT_GT(requests, 100u) << summary.dump(2);
  EXPECT_EQ(summary.value("requests_total", 0ull), requests);
  EXPECT_EQ(summary["errors"].value("other_error", 1ull), 0u) << summary.dump(2);
  EXPECT_NE(o.out.find("Checkout"), std::string::npos) << o.out;
  json stats;
  StopTarget(target, &stats);
  // Every request the report counts reached the target. The target may also have read a
  // request whose iteration was still in flight when the grace period ended (the report
  // counts those as abandoned, not as requests): at most one per abandoned iteration.
  const uint64_t abandoned = summary.value("abandoned_in_flight", 0ull);
  EXPECT_GE(stats.value("requests", 0ull), requests);
  EXPECT_LE(stats.value("requests", 0ull), requests + abandoned) << "abandoned " << abandoned;
}

TEST(PlanCli, AFailedThresholdExitsWith99) {
  Target target;
  ASSERT_TRUE(StartTarget({"--threads", "1", "--status-mix", "200:80,503:20"}, &target));
  TempDir dir;
  const std::string plan = WritePlan(dir, "t.yaml", R"(version: "1.0"
config: {baseUrl: ")" + target.Url() + R"(", duration: 30s, workers: 2, maxRequests: 500}
scenarios: [{name: S, steps: [{request: {path: /}}]}]
thresholds:
  http_req_failed: ["rate<0.05"]
  http_reqs: ["count>=500"]
)");
  Outcome o = RunVolley({"run", plan, "-q", "--metrics-addr", ""});
  EXPECT_TRUE(o.status.Exited(99)) << o.Diagnostics();
  EXPECT_NE(o.out.find("FAIL"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("PASS"), std::string::npos) << o.out;
}

// ---- volley node ------------------------------------------------------------------------

struct Node {
  std::unique_ptr<Subprocess> proc;
  int port = 0;
};

// The node's environment: CleanEnv without the access variables either (not in EnvVarDocs).
Env NodeEnv(std::map<std::string, std::string> set = {}) {
  set.emplace("CLUSTER_NODE_ID", "n1");
  set.emplace("CLUSTER_REGION", "eu");
  Env env = CleanEnv(std::move(set));
  for (const char* name : {"VOLLEY_API_TOKEN", "VOLLEY_INSECURE"}) {
    if (!env.set.count(name)) env.unset.emplace_back(name);
  }
  return env;
}

::testing::AssertionResult StartNode(Node* n, const std::string& listen = "127.0.0.1:0",
                                     const Env& env = NodeEnv()) {
  std::string error;
  n->proc = Subprocess::Spawn(Argv({"node", "--listen", listen, "--metrics-addr", "127.0.0.1:0"}),
                              env, &error);
  if (!n->proc) return ::testing::AssertionFailure() << error;
  static const std::regex kListening(R"(control API on http://[0-9.]+:(\d+))");
  auto up = [](const std::string& text) { return std::regex_search(text, kListening); };
  if (!n->proc->WaitForStderr(up, kQuick)) {
    return ::testing::AssertionFailure() << n->proc->Diagnostics();
  }
  std::smatch m;
  const std::string err = n->proc->Stderr();
  std::regex_search(err, m, kListening);
  n->port = std::stoi(m[1].str());
  return ::testing::AssertionSuccess();
}

json Health(fakes::LoopbackClient& c) {
  auto r = c.Get("/health");
  return r && r->status == 200 ? ParseJson(r->body) : json();
}

// A node given a plan it cannot use ends with the configuration exit code, whatever the
// timing of its server threads (it used to hang in most runs, deaf to SIGTERM).
TEST(NodeCli, AMissingOrInvalidPlanExitsWith2) {
  for (int i = 0; i < 10; ++i) {
    const Outcome o = RunVolley({"node", "/nonexistent.yaml"}, CleanEnv(), kQuick);
    ASSERT_TRUE(o.status.Exited(2)) << "run " << i << "\n" << o.Diagnostics();
    EXPECT_NE(o.err.find("/nonexistent.yaml: cannot open the plan file"), std::string::npos)
        << o.err;
  }
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  // Parsed, then refused by the node once its control API runs (load.min > load.max).
  const std::string bad = WritePlan(dir, "bad.yaml", R"(version: "1.0"
config: {baseUrl: "http://127.0.0.1:9/", duration: 5s}
load: {model: ramp, min: 500, max: 100}
scenarios: [{name: S, steps: [{request: {path: /}}]}]
)");
  for (int i = 0; i < 5; ++i) {
    const Outcome o = RunVolley({"node", "--listen", "127.0.0.1:0", "--metrics-addr", "", bad},
                                CleanEnv(), kQuick);
    ASSERT_TRUE(o.status.Exited(2)) << "run " << i << "\n" << o.Diagnostics();
  }
}

TEST(NodeCli, ControlApiStartsReplacesAndStopsTests) {
  Target target;
  ASSERT_TRUE(StartTarget({"--threads", "1"}, &target));
  Node node;
  ASSERT_TRUE(StartNode(&node));
  fakes::LoopbackClient c(node.port);
  auto ready = c.Get("/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  json h = Health(c);
  EXPECT_EQ(h.value("node_state", ""), "idle") << h.dump();
  EXPECT_EQ(h.value("node_id", ""), "n1");
  EXPECT_EQ(h.value("region", ""), "eu");
  for (const char* key :
       {"rps", "error_rate_pct", "workers", "memory_mb", "cpu_pct", "time_remaining_secs"}) {
    EXPECT_TRUE(h.contains(key)) << key;
  }

  const std::string plan = R"(version: "1.0"
config: {baseUrl: ")" + target.Url() +
                           R"(", duration: 60s, workers: 2}
load: {model: rps, target: 50}
scenarios: [{name: S, steps: [{request: {path: /}}]}]
)";
  auto started = c.Post("/config", plan, "application/yaml");
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, 200) << started->body;
  const std::string run_id = ParseJson(started->body).value("run_id", "");
  EXPECT_FALSE(run_id.empty());
  h = Health(c);
  EXPECT_EQ(h.value("node_state", ""), "running") << h.dump();
  EXPECT_EQ(h.value("workers", 0), 2);
  EXPECT_GT(h.value("time_remaining_secs", 0.0), 50.0);

  // A bad plan is refused with the validator's problems; the running test goes on.
  auto bad = c.Post("/config", "version: \"1.0\"\nconfig: {duraton: 5s}\n", "application/yaml");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  const json problems = ParseJson(bad->body);
  ASSERT_TRUE(problems.contains("problems")) << bad->body;
  bool positioned = false;
  for (const auto& p : problems["problems"]) {
    positioned =
        positioned || p.get<std::string>().find("config:2:10: config.duraton: unknown key") == 0;
  }
  EXPECT_TRUE(positioned) << bad->body;
  EXPECT_EQ(Health(c).value("node_state", ""), "running");
  EXPECT_EQ(Health(c).value("run_id", ""), run_id);

  // The run's requests show on the health endpoint once a tick has passed.
  EXPECT_TRUE(PollUntil([&] { return Health(c).value("rps", 0.0) > 0; }, kQuick));

  auto stopped = c.Post("/stop", "", "text/plain");
  ASSERT_TRUE(stopped);
  EXPECT_EQ(ParseJson(stopped->body).value("status", ""), "stopped");
  EXPECT_EQ(Health(c).value("node_state", ""), "idle");

  // A short test ends by itself: standby, with its results still readable.
  const std::string short_plan = R"(version: "1.0"
config: {baseUrl: ")" + target.Url() +
                                 R"(", duration: 1s, workers: 1}
scenarios: [{name: S, steps: [{request: {path: /}}]}]
)";
  auto again = c.Post("/config", short_plan, "application/yaml");
  ASSERT_TRUE(again);
  ASSERT_EQ(again->status, 200) << again->body;
  EXPECT_TRUE(PollUntil([&] { return Health(c).value("node_state", "") == "standby"; }, kQuick));
  EXPECT_GT(Health(c).value("error_rate_pct", -1.0), -0.5);

  node.proc->Signal(SIGTERM);
  EXPECT_TRUE(node.proc->Wait(kQuick).Exited(0)) << node.proc->Diagnostics();
  EXPECT_NE(node.proc->Stdout().find("requests"), std::string::npos);
}

// Issue 17, "no open relay": off loopback without a token the node does not start.
TEST(NodeCli, RefusesToListenOffLoopbackWithoutAToken) {
  Outcome o = RunVolley({"node", "--listen", "0.0.0.0:0", "--metrics-addr", ""}, NodeEnv());
  EXPECT_TRUE(o.status.Exited(2)) << o.Diagnostics();
  for (const char* fix : {"VOLLEY_API_TOKEN=", "--listen 127.0.0.1", "VOLLEY_INSECURE=true"}) {
    EXPECT_NE(o.err.find(fix), std::string::npos) << fix << "\n" << o.Diagnostics();
  }
  // VOLLEY_INSECURE=true accepts the risk.
  Node node;
  ASSERT_TRUE(StartNode(&node, "0.0.0.0:0", NodeEnv({{"VOLLEY_INSECURE", "true"}})));
  node.proc->Signal(SIGTERM);
  EXPECT_TRUE(node.proc->Wait(kQuick).Exited(0)) << node.proc->Diagnostics();
}

TEST(NodeCli, WithATokenPostConfigNeedsIt) {
  Target refused_target, started_target;
  ASSERT_TRUE(StartTarget({"--threads", "1"}, &refused_target));
  ASSERT_TRUE(StartTarget({"--threads", "1"}, &started_target));
  const std::string token = "tok-5f1c9a";
  Node node;
  ASSERT_TRUE(StartNode(&node, "0.0.0.0:0", NodeEnv({{"VOLLEY_API_TOKEN", token}})));
  auto plan = [](const Target& t) {
    return R"(version: "1.0"
config: {baseUrl: ")" +
           t.Url() + R"(", duration: 60s, workers: 1}
load: {model: rps, target: 50}
scenarios: [{name: S, steps: [{request: {path: /}}]}]
)";
  };
  for (const std::vector<std::string>& auth :
       {std::vector<std::string>{}, {"Authorization: Bearer tok-5f1c9b"}}) {
    auto r = fakes::Fetch(node.port, "POST", "/config", auth, plan(refused_target));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << r->body;
  }
  auto health = [&] {
    auto r = fakes::Fetch(node.port, "GET", "/health");  // open without the token
    return r && r->status == 200 ? ParseJson(r->body) : json();
  };
  EXPECT_EQ(health().value("node_state", ""), "idle");
  auto ok = fakes::Fetch(node.port, "POST", "/config", {"Authorization: Bearer " + token},
                         plan(started_target));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_TRUE(PollUntil([&] { return health().value("rps", 0.0) > 0; }, kQuick));
  auto stop = fakes::Fetch(node.port, "POST", "/stop", {"Authorization: Bearer " + token});
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 200);
  node.proc->Signal(SIGTERM);
  EXPECT_TRUE(node.proc->Wait(kQuick).Exited(0)) << node.proc->Diagnostics();
  EXPECT_EQ(node.proc->Stderr().find(token), std::string::npos) << "the token is logged";
  json refused_stats, started_stats;
  StopTarget(refused_target, &refused_stats);
  StopTarget(started_target, &started_stats);
  EXPECT_EQ(refused_stats.value("requests", -1), 0) << refused_stats.dump();
  EXPECT_GT(started_stats.value("requests", 0), 0) << started_stats.dump();
}

}  // namespace
}  // namespace volley
