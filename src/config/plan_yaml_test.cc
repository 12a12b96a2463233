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
  EXPECT_EQ(plan->request.method, "POST");
  EXPECT_EQ(plan->request.path, "/api/search?q=laptop");
  EXPECT_EQ(plan->request.body, "{\"q\":\"laptop\"}");
  ASSERT_EQ(plan->request.headers.size(), 1u);
  EXPECT_EQ(plan->request.headers[0].first, "X-Trace");
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

TEST(PlanYaml, RefusesWhatTheExecutorCannotRunYetInsteadOfIgnoringIt) {
  const char* text = R"(version: "1.0"
config: {baseUrl: "http://127.0.0.1:1", duration: 10s}
scenarios:
  - name: A
    steps:
      - request: {path: /a}
        extract: [{type: header, name: t, header: X}]
)";
  auto plan = ParsePlanYaml(text, "p.yaml");
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find("p.yaml:7:18: scenarios[0].steps[0].extract: not supported"),
            std::string::npos)
      << plan.error().message;
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
