#include "volley/config/env.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace volley::config {
namespace {

EnvLookup FakeEnv(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(Env, SingleRequestModeFromEnvironmentAlone) {
  TestPlan plan;
  auto r = ApplyEnv(FakeEnv({{"TARGET_URL", "https://api.example.com:8443/v1/items?x=1"},
                             {"REQUEST_TYPE", "post"},
                             {"SEND_JSON", "true"},
                             {"JSON_PAYLOAD", "{\"a\":1}"},
                             {"CUSTOM_HEADERS", "Authorization: Bearer x,X-List: a\\,b"},
                             {"NUM_CONCURRENT_TASKS", "25"},
                             {"TEST_DURATION", "5m"},
                             {"LOAD_MODEL_TYPE", "Rps"},
                             {"TARGET_RPS", "250.5"},
                             {"RESOLVE_TARGET_ADDR", "api.example.com:127.0.0.1:9443"}}),
                    plan);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(plan.target.scheme, "https");
  EXPECT_EQ(plan.target.host, "api.example.com");
  EXPECT_EQ(plan.target.port, 8443);
  EXPECT_EQ(plan.target.path, "/v1/items?x=1");
  EXPECT_EQ(plan.request.method, "POST");
  EXPECT_EQ(plan.request.body, "{\"a\":1}");
  ASSERT_EQ(plan.request.headers.size(), 1u);
  EXPECT_EQ(plan.request.headers[0].second, "application/json");
  ASSERT_EQ(plan.custom_headers.size(), 2u);
  EXPECT_EQ(plan.custom_headers[0], (Header{"Authorization", "Bearer x"}));
  EXPECT_EQ(plan.custom_headers[1], (Header{"X-List", "a,b"}));
  EXPECT_EQ(plan.workers, 25);
  EXPECT_EQ(plan.duration, std::chrono::minutes(5));
  EXPECT_EQ(plan.load.kind, LoadModelKind::kRps);
  EXPECT_DOUBLE_EQ(plan.load.target, 250.5);
  EXPECT_EQ(plan.resolve_ip, "127.0.0.1");
  EXPECT_EQ(plan.resolve_port, 9443);
  EXPECT_TRUE(Validate(plan).has_value());
}

TEST(Env, ReportsEveryProblemAtOnceNamingTheVariable) {
  TestPlan plan;
  auto r = ApplyEnv(FakeEnv({{"TARGET_URL", "ftp://x"},
                             {"TEST_DURATION", "forever"},
                             {"NUM_CONCURRENT_TASKS", "ten"},
                             {"LOAD_MODEL_TYPE", "Bursty"}}),
                    plan);
  ASSERT_FALSE(r.has_value());
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("TARGET_URL: invalid URL 'ftp://x'"), std::string::npos) << m;
  EXPECT_NE(m.find("TEST_DURATION: invalid duration 'forever'"), std::string::npos) << m;
  EXPECT_NE(m.find("NUM_CONCURRENT_TASKS: not an integer"), std::string::npos) << m;
  EXPECT_NE(m.find("LOAD_MODEL_TYPE: unknown load model 'Bursty'"), std::string::npos) << m;
}

TEST(Url, ParsesHostsPortsAndPaths) {
  auto u = ParseUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/");
  EXPECT_EQ(u->HostHeader(), "127.0.0.1:8080");
  auto v6 = ParseUrl("https://[::1]/a#frag");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 443);
  EXPECT_EQ(v6->path, "/a");
  EXPECT_EQ(v6->HostHeader(), "[::1]");
  EXPECT_FALSE(ParseUrl("http://:80/"));
  EXPECT_FALSE(ParseUrl("http://host:99999/"));
  EXPECT_FALSE(ParseUrl("127.0.0.1:8080"));
}

TEST(Stages, ParsesAndRejects) {
  auto s = ParseStages("30s:100, 1m:200");
  ASSERT_TRUE(s);
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[1].duration, std::chrono::minutes(1));
  EXPECT_DOUBLE_EQ((*s)[1].target, 200);
  EXPECT_FALSE(ParseStages("30s"));
  EXPECT_FALSE(ParseStages("30s:-1"));
}

TEST(Validate, ModelParametersAreChecked) {
  TestPlan plan;
  plan.target = *ParseUrl("http://127.0.0.1:1/");
  plan.load.kind = LoadModelKind::kRps;
  auto r = Validate(plan);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("TARGET_RPS"), std::string::npos);
  plan.load.kind = LoadModelKind::kDailyTraffic;
  plan.load.min = 10;
  plan.load.mid = 5;
  plan.load.max = 20;
  plan.load.cycle_duration = std::chrono::minutes(1);
  EXPECT_FALSE(Validate(plan));
  plan.load.mid = 15;
  EXPECT_TRUE(Validate(plan)) << Validate(plan).error().message;
  plan.tls.client_cert_path = "c.pem";
  EXPECT_FALSE(Validate(plan));
}

TEST(Headers, RejectsMalformed) {
  EXPECT_FALSE(ParseHeaderList("NoColon"));
  EXPECT_FALSE(ParseHeaderList("Bad Name: x"));
  EXPECT_FALSE(ParseHeaderList("A: b\r\nInjected: y"));
  auto ok = ParseHeaderList(" A: 1 , B:2 ,");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->size(), 2u);
}

}  // namespace
}  // namespace volley::config

namespace volley::config {
namespace {

TEST(Validate, RefusesRatesThatWouldOnlySpinAndOverridesThatNeverApply) {
  TestPlan plan;
  auto r = ApplyEnv(FakeEnv({{"TARGET_RPS", "inf"}}), plan);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("TARGET_RPS: not a finite number"), std::string::npos);
  plan.target = *ParseUrl("http://api.example.com/");
  plan.load.kind = LoadModelKind::kRps;
  plan.load.target = 1e12;
  auto v = Validate(plan);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("at most 10000000/s"), std::string::npos) << v.error().message;
  plan.load.target = 100;
  ASSERT_TRUE(ParseResolve("api.exmple.com:127.0.0.1:8080", plan));
  v = Validate(plan);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("RESOLVE_TARGET_ADDR: host 'api.exmple.com' is not the "
                                   "target host 'api.example.com'"),
            std::string::npos)
      << v.error().message;
  ASSERT_TRUE(ParseResolve("API.example.com:127.0.0.1:8080", plan));
  EXPECT_TRUE(Validate(plan)) << "host names compare without case";
}

TEST(Env, RefusesNegativeOrOversizedIntegers) {
  TestPlan plan;
  auto r =
      ApplyEnv(FakeEnv({{"MAX_REQUESTS", "-5"}, {"NUM_CONCURRENT_TASKS", "99999999999"}}), plan);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("MAX_REQUESTS: must be between 0 and"), std::string::npos);
  EXPECT_NE(r.error().message.find("NUM_CONCURRENT_TASKS: must be between 0 and"),
            std::string::npos);
}

TEST(Identity, FillsNodeAndRunIdsOnlyWhenEmpty) {
  TestPlan plan;
  FillIdentity(plan);
  EXPECT_FALSE(plan.node_id.empty());
  EXPECT_EQ(plan.run_id.rfind("run-", 0), 0u);
  TestPlan mine;
  mine.node_id = "n1";
  mine.run_id = "r1";
  FillIdentity(mine);
  EXPECT_EQ(mine.node_id, "n1");
  EXPECT_EQ(mine.run_id, "r1");
}

}  // namespace
}  // namespace volley::config
