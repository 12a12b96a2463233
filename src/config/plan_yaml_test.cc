#include "volley/config/plan_yaml.h"

#include <gtest/gtest.h>

namespace volley::config {
namespace {

TEST(PlanYaml, ReadsConfigLoadAndASingleStepScenario) {
  const char* text = R"(version: "1.0"
metadata: {name: smoke, tags: [a, b]}
config:
  baseUrl: "http://127.0.0.1:8080/api"
  duration: "5m"
  timeout: 2s
  workers: 25
  customHeaders: "Authorization: Bearer x"
load:
  model: stages
  stages:
    - {duration: 30s, target: 100}
    - {duration: 1m, target: 400}
  maxInFlight: 500
scenarios:
  - name: Browse
    weight: 1
    steps:
      - name: Search
        request:
          method: post
          path: "/search"
          queryParams: {q: laptop}
          headers: {X-Trace: "1"}
          body: '{"q":"laptop"}'
)";
  auto plan = ParsePlanYaml(text, "plan.yaml");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->target.port, 8080);
  EXPECT_EQ(plan->duration, std::chrono::minutes(5));
  EXPECT_EQ(plan->request_timeout, std::chrono::seconds(2));
  EXPECT_EQ(plan->workers, 25);
  ASSERT_EQ(plan->custom_headers.size(), 1u);
  EXPECT_EQ(plan->load.kind, LoadModelKind::kStages);
  ASSERT_EQ(plan->load.stages.size(), 2u);
  EXPECT_DOUBLE_EQ(plan->load.stages[1].target, 400);
  EXPECT_EQ(plan->load.max_in_flight, 500u);
  ASSERT_EQ(plan->scenarios.size(), 1u);
  const Scenario& sc = plan->scenarios[0];
  EXPECT_EQ(sc.name, "Browse");
  EXPECT_EQ(sc.origin, "plan.yaml:16:5: scenarios[0]");
  ASSERT_EQ(sc.steps.size(), 1u);
  const Step& step = sc.steps[0];
  EXPECT_EQ(step.method, "POST");
  EXPECT_EQ(step.path, "/api/search");
  ASSERT_EQ(step.query.size(), 1u);
  EXPECT_EQ(step.query[0], KeyValue("q", "laptop"));
  EXPECT_EQ(step.body, "{\"q\":\"laptop\"}");
  ASSERT_EQ(step.headers.size(), 1u);
  EXPECT_EQ(step.headers[0].first, "X-Trace");
}

// Every feature of the seed project's plan format (specs/standalone-compat.md).
TEST(PlanYaml, ReadsEveryScenarioFeature) {
  const char* text = R"yaml(version: "1.0"
metadata: {name: shop, description: d, author: me, tags: [x]}
config: {baseUrl: "http://127.0.0.1:8080", duration: 600, timeout: 30s, workers: 4}
load: {model: ramp, min: 10, max: 200, rampDuration: 5m}
scenarios:
  - name: Browse
    weight: 60
    dataFile: {path: users.csv, strategy: cycle}
    config: {timeout: 5s, retryCount: 2, retryDelay: 100ms}
    steps:
      - name: Home
        request: {method: GET, path: "/products/${productId}"}
        extract:
          - {type: jsonPath, name: productId, jsonPath: "$.products[0].id"}
          - {type: regex, name: txId, regex: "Transaction ID: (\\d+)"}
          - {type: header, name: authToken, header: X-Auth-Token}
          - {type: cookie, name: sessionId, cookie: JSESSIONID}
        assertions:
          - {type: statusCode, expected: 201}
          - {type: responseTime, max: "500ms"}
          - {type: bodyContains, text: "success"}
          - {type: bodyMatches, regex: "User-\\d+"}
          - {type: jsonPath, path: "$.status", expected: "active"}
          - {type: jsonPath, path: "$.id"}
          - {type: headerExists, header: X-Request-ID}
        thinkTime: "5000"
      - request: {path: /b}
        thinkTime: {min: 1s, max: 5s}
  - name: Buy
    weight: 40
    dataFile: {path: /data/items.json}
    steps:
      - request: {method: post, path: /cart, body: '{"id": "${id}"}'}
        thinkTime: 2s
thresholds:
  request_duration_seconds: ["p(95)<200ms", "p(99.9)<1s"]
  http_req_failed:
    - {threshold: "rate<0.01", abortOnFail: true, delayAbortEval: 10s}
outputs:
  - {type: cloud, url: "http://127.0.0.1:9000", apiVersion: 1}
)yaml";
  auto plan = ParsePlanYaml(text, "dir/plan.yaml");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->duration, std::chrono::seconds(600));
  ASSERT_EQ(plan->scenarios.size(), 2u);
  const Scenario& browse = plan->scenarios[0];
  EXPECT_DOUBLE_EQ(browse.weight, 60);
  ASSERT_TRUE(browse.data);
  EXPECT_EQ(browse.data->path, "dir/users.csv");
  EXPECT_EQ(browse.data->format, DataFile::Format::kCsv);
  EXPECT_EQ(browse.data->strategy, DataFile::Strategy::kCycle);
  EXPECT_EQ(browse.timeout, std::chrono::seconds(5));
  EXPECT_EQ(browse.retry_count, 2);
  EXPECT_EQ(browse.retry_delay, std::chrono::milliseconds(100));
  ASSERT_EQ(browse.steps.size(), 2u);
  const Step& home = browse.steps[0];
  EXPECT_EQ(home.name, "Home");
  EXPECT_EQ(home.path, "/products/${productId}");
  ASSERT_EQ(home.extract.size(), 4u);
  EXPECT_EQ(home.extract[0].kind, Extraction::Kind::kJsonPath);
  EXPECT_EQ(home.extract[0].expr, "$.products[0].id");
  EXPECT_EQ(home.extract[1].kind, Extraction::Kind::kRegex);
  EXPECT_EQ(home.extract[1].expr, "Transaction ID: (\\d+)");
  EXPECT_EQ(home.extract[2].kind, Extraction::Kind::kHeader);
  EXPECT_EQ(home.extract[3].kind, Extraction::Kind::kCookie);
  EXPECT_EQ(home.extract[3].name, "sessionId");
  EXPECT_EQ(home.extract[3].expr, "JSESSIONID");
  ASSERT_EQ(home.assertions.size(), 7u);
  EXPECT_EQ(home.assertions[0].status, 201);
  EXPECT_EQ(home.assertions[1].max_time, std::chrono::milliseconds(500));
  EXPECT_EQ(home.assertions[2].text, "success");
  EXPECT_EQ(home.assertions[3].kind, Assertion::Kind::kBodyMatches);
  EXPECT_EQ(home.assertions[4].expected, std::optional<std::string>("active"));
  EXPECT_FALSE(home.assertions[5].expected);
  EXPECT_EQ(home.assertions[6].text, "X-Request-ID");
  EXPECT_EQ(home.think.min, std::chrono::seconds(5));
  EXPECT_EQ(home.think.max, std::chrono::seconds(5));
  EXPECT_EQ(browse.steps[1].name, "step2");
  EXPECT_EQ(browse.steps[1].think.min, std::chrono::seconds(1));
  EXPECT_EQ(browse.steps[1].think.max, std::chrono::seconds(5));
  const Scenario& buy = plan->scenarios[1];
  EXPECT_EQ(buy.data->path, "/data/items.json");
  EXPECT_EQ(buy.data->format, DataFile::Format::kJson);
  EXPECT_EQ(buy.data->strategy, DataFile::Strategy::kSequential);
  EXPECT_EQ(buy.steps[0].method, "POST");
  EXPECT_EQ(buy.steps[0].body, "{\"id\": \"${id}\"}");
  ASSERT_EQ(plan->thresholds.size(), 2u);
  EXPECT_EQ(plan->thresholds[0].metric, "request_duration_seconds");
  EXPECT_EQ(plan->thresholds[0].conditions,
            (std::vector<std::string>{"p(95)<200ms", "p(99.9)<1s"}));
  EXPECT_FALSE(plan->thresholds[0].abort_on_fail);
  EXPECT_EQ(plan->thresholds[1].conditions, std::vector<std::string>{"rate<0.01"});
  EXPECT_TRUE(plan->thresholds[1].abort_on_fail);
  EXPECT_EQ(plan->thresholds[1].delay_abort_eval, std::chrono::seconds(10));
  EXPECT_EQ(plan->thresholds[1].origin, "dir/plan.yaml:38:7: thresholds.http_req_failed[0]");
  ASSERT_EQ(plan->outputs.size(), 1u);
  EXPECT_EQ(plan->outputs[0].type, "cloud");
  EXPECT_EQ(plan->outputs[0].url, "http://127.0.0.1:9000");
  EXPECT_EQ(plan->outputs[0].options, (std::vector<KeyValue>{{"apiVersion", "1"}}));
}

TEST(PlanYaml, EveryProblemHasItsPositionAndPath) {
  const char* text = R"(version: "1.0"
config:
  baseUrl: "http://127.0.0.1:8080"
  duraton: 5m
  workers: -5
load:
  model: rps
  target: lots
)";
  auto plan = ParsePlanYaml(text, "plan.yaml");
  ASSERT_FALSE(plan);
  const std::string& m = plan.error().message;
  EXPECT_NE(m.find("plan.yaml:4:3: config.duraton: unknown key (did you mean 'duration'?)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("plan.yaml:5:12: config.workers: must be >= 1, got -5"), std::string::npos) << m;
  EXPECT_NE(m.find("plan.yaml:8:11: load.target: must be a number, got 'lots'"), std::string::npos)
      << m;
  EXPECT_NE(m.find("config.duration: required"), std::string::npos) << m;
  EXPECT_EQ(plan.error().code, ErrorCode::kInvalidArgument);
}

// Each malformed part of a scenario: a positioned message, never a silent default.
TEST(PlanYaml, MalformedScenariosArePositioned) {
  const char* text = R"(version: "1.0"
config: {baseUrl: "http://127.0.0.1:1", duration: 10s}
scenarios:
  - name: A
    weight: -1
    dataFile: {path: u.csv, strategy: shuffled, formt: csv}
    config: {retryCount: 2.5}
    steps:
      - request: {method: FETCH, path: "/a/${id", body: {a: 1}}
        extract:
          - {type: xpath, name: t}
          - {type: header, header: X}
          - {type: regex, name: r}
        assertions:
          - {type: statusCode, expected: 700}
          - {type: responseTime, max: soon}
          - {type: bodyContain, text: x}
          - {type: headerExists}
        thinkTime: {min: 5s, max: 1s}
  - name: A
    steps: []
thresholds:
  request_duration_seconds: "p(95)<1s"
outputs:
  - {url: "http://x"}
)";
  auto plan = ParsePlanYaml(text, "p.yaml");
  ASSERT_FALSE(plan);
  const std::string& m = plan.error().message;
  for (const char* want : {
           "p.yaml:5:13: scenarios[0].weight: must be >= 0, got -1",
           "p.yaml:6:49: scenarios[0].dataFile.formt: unknown key (did you mean 'format'?)",
           "p.yaml:6:39: scenarios[0].dataFile.strategy: must be sequential, random or cycle",
           "p.yaml:7:26: scenarios[0].config.retryCount: must be a whole number, got 2.5",
           "p.yaml:9:27: scenarios[0].steps[0].request.method: must be GET, POST",
           "p.yaml:9:40: scenarios[0].steps[0].request.path: unterminated '${'",
           "scenarios[0].steps[0].request.body: must be a string",
           "p.yaml:11:20: scenarios[0].steps[0].extract[0].type: unknown extractor 'xpath'",
           "scenarios[0].steps[0].extract[1].name: required",
           "scenarios[0].steps[0].extract[2].regex: required for type regex",
           "scenarios[0].steps[0].assertions[0].expected: must be 100-599",
           "p.yaml:16:39: scenarios[0].steps[0].assertions[1].max: invalid duration",
           "scenarios[0].steps[0].assertions[2].type: unknown assertion 'bodyContain'",
           "scenarios[0].steps[0].assertions[3].header: required for type headerExists",
           "p.yaml:19:20: scenarios[0].steps[0].thinkTime: min must not exceed max",
           "p.yaml:20:11: scenarios[1].name: 'A' is already the name of another scenario",
           "p.yaml:21:12: scenarios[1].steps: must be a non-empty list of steps",
           "p.yaml:23:29: thresholds.request_duration_seconds: must be a list of conditions",
           "p.yaml:25:5: outputs[0].type: required",
       }) {
    EXPECT_NE(m.find(want), std::string::npos) << "missing: " << want << "\n" << m;
  }
}

TEST(PlanYaml, SyntaxErrorsCarryTheirPosition) {
  auto plan = ParsePlanYaml("version: \"1.0\"\nconfig: [unclosed\n", "bad.yaml");
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message.rfind("bad.yaml:", 0), 0u) << plan.error().message;
  EXPECT_NE(plan.error().message.find("invalid YAML"), std::string::npos);
  EXPECT_FALSE(ParsePlanYaml("- just\n- a list\n", "l.yaml"));
  EXPECT_FALSE(LoadPlanFile("/nonexistent/plan.yaml"));
}

}  // namespace
}  // namespace volley::config
