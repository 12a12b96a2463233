// The keys of the seed project's current plan format that volley reads (bodySize, cache,
// full-URL step paths, pool, metadata labels, standby): what each becomes in the TestPlan,
// and the positioned problem of each malformed value.
#include <gtest/gtest.h>

#include "volley/config/plan_yaml.h"
#include "volley/config/values.h"

namespace volley::config {
namespace {

std::string Problems(const char* text) {
  auto plan = ParsePlanYaml(text, "p.yaml");
  return plan ? "" : plan.error().message;
}

TEST(PlanSeedKeys, BodySizeUnitsAreTheSeedProjects) {
  EXPECT_EQ(ParseBodySize("1MB").value_or(0), 1048576u);
  EXPECT_EQ(ParseBodySize("512KB").value_or(0), 524288u);
  EXPECT_EQ(ParseBodySize(" 100B ").value_or(0), 100u);
  EXPECT_EQ(ParseBodySize("2 MB").value_or(0), 2097152u);
  EXPECT_EQ(ParseBodySize("256MB").value_or(0), 256u << 20);
  for (const char* bad :
       {"", "1", "1GB", "0KB", "1.5MB", "-1KB", "MB", "1mb", "257MB", "99999999999999MB"}) {
    EXPECT_FALSE(ParseBodySize(bad)) << bad;
  }
  EXPECT_EQ(ParseBodySize("1GB").error().message,
            "body size '1GB' must be a whole number and a unit: B, KB or MB (e.g. 512KB, 1MB, "
            "100B)");
}

TEST(PlanSeedKeys, BodySizeAndCacheOfAStep) {
  auto plan = ParsePlanYaml(R"(version: "1.0"
config: {baseUrl: "http://127.0.0.1:1", duration: 10s}
scenarios:
  - steps:
      - request: {method: POST, path: /login, body: x}
        extract: [{type: jsonPath, name: t, jsonPath: "$.t"}]
        cache: {ttl: 5m}
      - request: {method: POST, path: /up, bodySize: 512KB}
)",
                            "p.yaml");
  ASSERT_TRUE(plan) << plan.error().message;
  const auto& steps = plan->scenarios[0].steps;
  EXPECT_EQ(steps[0].cache_ttl, std::chrono::minutes(5));
  EXPECT_EQ(steps[0].body_size, 0u);
  EXPECT_EQ(steps[1].body_size, 524288u);
  EXPECT_EQ(steps[1].cache_ttl, Nanos(0));
}

TEST(PlanSeedKeys, MalformedBodySizeAndCacheArePositioned) {
  const std::string m = Problems(R"(version: "1.0"
config: {baseUrl: "http://127.0.0.1:1", duration: 10s}
scenarios:
  - steps:
      - request: {method: POST, path: /a, body: x, bodySize: 1KB}
        cache: {ttl: 5m}
      - request: {path: /b, bodySize: 1GB}
        extract: [{type: jsonPath, name: t, jsonPath: "$.t"}]
        cache: {ttl: soon, size: 3}
      - request: {path: /c}
        extract: [{type: jsonPath, name: u, jsonPath: "$.u"}]
        cache: {}
)");
  for (const char* want : {
           "p.yaml:5:62: scenarios[0].steps[0].request.bodySize: body and bodySize exclude "
           "each other",
           "p.yaml:6:16: scenarios[0].steps[0].cache: caches the step's extracted variables, "
           "but the step extracts none",
           "p.yaml:7:39: scenarios[0].steps[1].request.bodySize: body size '1GB'",
           "p.yaml:9:28: scenarios[0].steps[1].cache.size: unknown key",
           "p.yaml:9:22: scenarios[0].steps[1].cache.ttl: ",
           "p.yaml:12:16: scenarios[0].steps[2].cache.ttl: required",
       }) {
    EXPECT_NE(m.find(want), std::string::npos) << "missing: " << want << "\n" << m;
  }
}

TEST(PlanSeedKeys, FullUrlStepPathsKeepTheirOrigin) {
  auto plan = ParsePlanYaml(R"(version: "1.0"
config: {baseUrl: "http://127.0.0.1:1/api", duration: 10s}
scenarios:
  - steps:
      - request: {path: /login}
      - request: {path: "HTTPS://auth.example:8443/token/${id}?a=b"}
      - request: {path: "http://other"}
)",
                            "p.yaml");
  ASSERT_TRUE(plan) << plan.error().message;
  const auto& steps = plan->scenarios[0].steps;
  EXPECT_FALSE(steps[0].origin_url);
  EXPECT_EQ(steps[0].path, "/api/login");
  ASSERT_TRUE(steps[1].origin_url);
  EXPECT_EQ(steps[1].origin_url->Origin(), "https://auth.example:8443");
  EXPECT_EQ(steps[1].path, "/token/${id}?a=b");
  ASSERT_TRUE(steps[2].origin_url);
  EXPECT_EQ(steps[2].origin_url->Origin(), "http://other");
  EXPECT_EQ(steps[2].path, "/");
  const std::string m = Problems(R"(version: "1.0"
config: {baseUrl: "http://127.0.0.1:1", duration: 10s}
scenarios:
  - steps:
      - request: {path: "http://${host}/x"}
      - request: {path: "https://"}
)");
  EXPECT_NE(m.find("p.yaml:5:25: scenarios[0].steps[0].request.path: the host of a full URL "
                   "cannot use variables"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("p.yaml:6:25: scenarios[0].steps[1].request.path: "), std::string::npos) << m;
}

TEST(PlanSeedKeys, PoolResolveMetadataAndStandby) {
  auto plan = ParsePlanYaml(R"(version: "1.0"
metadata: {name: n, tenant: acme, run_id: r-42}
config:
  baseUrl: "http://api.example:8080"
  duration: 10s
  resolveTargetAddr: "api.example:127.0.0.1:9000"
  pool: {maxIdlePerHost: 32, idleTimeoutSecs: 30, metricsReuseThresholdMs: 100}
  customHeaders: "X-A: 1"
scenarios: [{steps: [{request: {path: /}}]}]
standby: {workers: 3, rps: 2.5}
)",
                            "p.yaml");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->tenant, "acme");
  EXPECT_EQ(plan->run_id, "r-42");
  EXPECT_EQ(plan->resolve_host, "api.example");
  EXPECT_EQ(plan->resolve_ip, "127.0.0.1");
  EXPECT_EQ(plan->resolve_port, 9000);
  EXPECT_TRUE(plan->reuse_connections);
  ASSERT_TRUE(plan->standby);
  EXPECT_EQ(plan->standby->workers, 3);
  EXPECT_EQ(plan->standby->rps, 2.5);
  for (const char* pool : {"{maxIdlePerHost: 0}", "{idleTimeoutSecs: 0}"}) {
    auto p = ParsePlanYaml(std::string(R"(version: "1.0"
config: {baseUrl: "http://127.0.0.1:1", duration: 10s, pool: )") +
                               pool + "}\nscenarios: [{steps: [{request: {path: /}}]}]\n",
                           "p.yaml");
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_FALSE(p->reuse_connections) << pool;
  }
  auto defaults = ParsePlanYaml(R"(version: "1.0"
config: {baseUrl: "http://127.0.0.1:1", duration: 10s}
scenarios: [{steps: [{request: {path: /}}]}]
standby: {}
)",
                                "p.yaml");
  ASSERT_TRUE(defaults) << defaults.error().message;
  EXPECT_EQ(defaults->standby->workers, 2);
  EXPECT_EQ(defaults->standby->rps, 0);
  const std::string m = Problems(R"(version: "1.0"
metadata: {tenant: [a]}
config:
  baseUrl: "http://127.0.0.1:1"
  duration: 10s
  resolveTargetAddr: nowhere
  pool: {maxIdle: 1, idleTimeoutSecs: -1}
scenarios: [{steps: [{request: {path: /}}]}]
standby: {workers: 0, rps: -1, size: 1}
)");
  for (const char* want : {
           "p.yaml:2:20: metadata.tenant: must be a single value",
           "p.yaml:6:22: config.resolveTargetAddr: invalid override 'nowhere'",
           "p.yaml:7:10: config.pool.maxIdle: unknown key",
           "p.yaml:7:39: config.pool.idleTimeoutSecs: must be >= 0, got -1",
           "p.yaml:9:20: standby.workers: must be >= 1, got 0",
           "p.yaml:9:28: standby.rps: must be >= 0, got -1",
           "p.yaml:9:32: standby.size: unknown key",
       }) {
    EXPECT_NE(m.find(want), std::string::npos) << "missing: " << want << "\n" << m;
  }
}

}  // namespace
}  // namespace volley::config
