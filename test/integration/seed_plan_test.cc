// The seed project's plan keys run by the engine against loopback servers that record what
// arrived: bodySize bodies of exactly that size, cached steps skipped while fresh, and
// steps whose path is a full URL sent to that host.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "fakes/engine_run.h"
#include "fakes/recording_server.h"
#include "volley/config/plan_yaml.h"
#include "volley/metrics/names.h"

namespace volley {
namespace {

namespace names = metrics::names;
using fakes::FakeResponse;
using fakes::RecordedRequest;
using fakes::RecordingServer;

// `yaml` with each "${NAME}" of `vars` replaced; `iterations` bounds the run.
config::TestPlan Plan(std::string text,
                      const std::vector<std::pair<std::string, std::string>>& vars,
                      uint64_t iterations, int workers) {
  for (const auto& [name, value] : vars) {
    for (size_t at = text.find(name); at != std::string::npos; at = text.find(name)) {
      text.replace(at, name.size(), value);
    }
  }
  auto plan = config::ParsePlanYaml(text, "seed.yaml");
  EXPECT_TRUE(plan) << plan.error().message;
  if (!plan) return {};
  plan->max_requests = iterations;
  plan->workers = workers;
  plan->threads = workers;
  plan->metrics_addr.clear();
  return *plan;
}

using fakes::CounterIn;

bool Alphanumeric(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c); });
}

TEST(SeedPlan, BodySizeSendsExactlyThatManyBytes) {
  RecordingServer server;
  server.Start();
  const auto plan = Plan(R"(version: "1.0"
config: {baseUrl: "${BASE}", duration: 30s}
scenarios:
  - name: Upload
    steps:
      - request: {method: POST, path: /big, bodySize: 1MB,
                  headers: {Content-Type: application/octet-stream}}
      - request: {method: PUT, path: /half, bodySize: "512KB"}
      - request: {method: POST, path: /tiny, bodySize: 3B}
)",
                         {{"${BASE}", server.url()}}, 12, 2);
  const auto out = fakes::RunEngine(plan, true);
  server.Stop();
  for (const auto& [path, size] : std::vector<std::pair<std::string, size_t>>{
           {"/big", 1048576}, {"/half", 524288}, {"/tiny", 3}}) {
    const auto got = server.requests_to(path);
    ASSERT_EQ(got.size(), 12u) << path;
    for (const RecordedRequest& r : got) {
      EXPECT_EQ(r.body.size(), size) << path;
      EXPECT_EQ(r.Header("content-length"), std::to_string(size)) << path;
      EXPECT_TRUE(Alphanumeric(r.body)) << path;
    }
  }
  EXPECT_EQ(server.requests_to("/big")[0].Header("content-type"), "application/octet-stream");
  EXPECT_EQ(CounterIn(out.snapshot, names::kRequests, {}), 36);
}

// 100 iterations of two users with a one-hour TTL: each user logs in once and reuses the
// token; every other login is a cache hit (counted, no request).
TEST(SeedPlan, CachedStepRunsOncePerUserWhileFresh) {
  RecordingServer server;
  int logins = 0;
  server.On("/login", [&logins](const RecordedRequest&, FakeResponse& res) {
    // Handlers run on the server's threads; the count is read after Stop().
    static std::mutex mu;
    std::lock_guard<std::mutex> lock(mu);
    res.set_content(R"({"token":"t)" + std::to_string(++logins) + R"("})", "application/json");
  });
  server.Start();
  const auto plan = Plan(R"(version: "1.0"
config: {baseUrl: "${BASE}", duration: 30s}
scenarios:
  - name: Api
    steps:
      - name: Login
        request: {method: POST, path: /login, body: '{"u":"a"}'}
        extract: [{type: jsonPath, name: token, jsonPath: "$.token"}]
        cache: {ttl: 1h}
        assertions: [{type: statusCode, expected: 200}]
      - name: Call
        request: {path: /api, headers: {Authorization: "Bearer ${token}"}}
)",
                         {{"${BASE}", server.url()}}, 100, 2);
  const auto out = fakes::RunEngine(plan, true);
  server.Stop();
  EXPECT_EQ(server.requests_to("/login").size(), 2u);
  const auto calls = server.requests_to("/api");
  ASSERT_EQ(calls.size(), 100u);
  std::map<std::string, int> tokens;
  for (const RecordedRequest& r : calls) ++tokens[r.Header("authorization")];
  EXPECT_EQ(tokens, (std::map<std::string, int>{{"Bearer t1", 50}, {"Bearer t2", 50}}));
  const metrics::Labels login{{names::kScenarioLabel, "Api"}, {names::kStepLabel, "Login"}};
  auto with = [](metrics::Labels l, std::vector<std::pair<std::string, std::string>> more) {
    l.insert(l.end(), more.begin(), more.end());
    return l;
  };
  EXPECT_EQ(CounterIn(out.snapshot, names::kStepsTotal,
                      with(login, {{"status", "success"}, {names::kCacheLabel, "hit"}})),
            98);
  EXPECT_EQ(CounterIn(out.snapshot, names::kStepsTotal, with(login, {{"status", "success"}})), 2);
  EXPECT_EQ(CounterIn(out.snapshot, names::kScenarioRequests, {{names::kScenarioLabel, "Api"}}),
            102);
  ASSERT_EQ(out.summary.scenarios.size(), 1u);
  const auto& steps = out.summary.scenarios[0].steps;
  ASSERT_EQ(steps.size(), 2u);
  for (const auto& st : steps) {
    EXPECT_EQ(st.count, 100u) << st.name;
    EXPECT_EQ(st.cache_hits, st.name == "Login" ? 98u : 0u) << st.name;
  }
}

// The seed project's dual-host flow: a relative step goes to the base URL, a full-URL step to
// its own host over the user's own connection there; each host gets exactly its steps.
TEST(SeedPlan, FullUrlStepsGoToTheirHost) {
  RecordingServer auth, api;
  auth.On("/base/auth/login", [](const RecordedRequest&, FakeResponse& res) {
    res.set_content(R"({"token":"jwt"})", "application/json");
  });
  api.On("/users/me", [](const RecordedRequest&, FakeResponse& res) { res.body = "me"; });
  auth.Start();
  api.Start();
  const auto plan = Plan(R"(version: "1.0"
config: {baseUrl: "${AUTH}/base", duration: 30s}
scenarios:
  - name: Dual
    steps:
      - name: Login
        request: {method: POST, path: /auth/login, body: x}
        extract: [{type: jsonPath, name: jwt, jsonPath: "$.token"}]
      - name: Call
        request: {path: "${API}/users/me?full=1", headers: {Authorization: "Bearer ${jwt}"},
                  queryParams: {n: "${jwt}"}}
      - name: Again
        request: {path: /auth/login}
)",
                         {{"${AUTH}", auth.url()}, {"${API}", api.url()}}, 20, 2);
  const auto out = fakes::RunEngine(plan, true);
  auth.Stop();
  api.Stop();
  // The base URL's path is joined to relative paths only.
  EXPECT_EQ(auth.requests_to("/base/auth/login").size(), 40u);
  EXPECT_EQ(auth.requests().size(), 40u);
  const auto calls = api.requests_to("/users/me");
  ASSERT_EQ(calls.size(), 20u);
  EXPECT_EQ(api.requests().size(), 20u);
  for (const RecordedRequest& r : calls) {
    EXPECT_EQ(r.Header("authorization"), "Bearer jwt");
    EXPECT_EQ(r.Header("host"), "127.0.0.1:" + std::to_string(api.port()));
    EXPECT_EQ(r.query, "full=1&n=jwt");
  }
  const std::string a = "127.0.0.1:" + std::to_string(auth.port());
  const std::string b = "127.0.0.1:" + std::to_string(api.port());
  EXPECT_EQ(CounterIn(out.snapshot, names::kScenarioRequests,
                      {{names::kScenarioLabel, "Dual"}, {names::kHostLabel, a}}),
            40);
  EXPECT_EQ(CounterIn(out.snapshot, names::kScenarioRequests,
                      {{names::kScenarioLabel, "Dual"}, {names::kHostLabel, b}}),
            20);
  ASSERT_EQ(out.summary.scenarios.size(), 1u);
  EXPECT_EQ(out.summary.scenarios[0].requests, 60u);
  EXPECT_EQ(out.summary.scenarios[0].requests_by_host,
            (std::map<std::string, uint64_t>{{a, 40}, {b, 20}}));
  EXPECT_EQ(
      CounterIn(
          out.snapshot, names::kStepsTotal,
          {{names::kScenarioLabel, "Dual"}, {names::kStepLabel, "Call"}, {"status", "success"}}),
      20);
}

// A host that refuses connections fails its steps (network errors), not the others'.
TEST(SeedPlan, AnUnreachableSecondHostFailsOnlyItsSteps) {
  RecordingServer base;
  base.Start();
  const auto plan = Plan(R"(version: "1.0"
config: {baseUrl: "${BASE}", duration: 30s}
scenarios:
  - name: S
    steps:
      - {name: A, request: {path: /a}}
      - {name: B, request: {path: "http://127.0.0.1:1/b"}}
)",
                         {{"${BASE}", base.url()}}, 10, 1);
  const auto out = fakes::RunEngine(plan, true);
  base.Stop();
  EXPECT_EQ(base.requests_to("/a").size(), 10u);
  const metrics::Labels b{{names::kScenarioLabel, "S"}, {names::kStepLabel, "B"}};
  auto with = [](metrics::Labels l, const char* status) {
    l.emplace_back("status", status);
    return l;
  };
  EXPECT_EQ(CounterIn(out.snapshot, names::kStepsTotal, with(b, "failure")), 10);
  EXPECT_EQ(CounterIn(out.snapshot, names::kErrors, {{names::kCategoryLabel, "network_error"}}),
            10);
}

// config.pool with maxIdlePerHost: 0: every request on a connection of its own, on both
// hosts; the connecting phase is measured once per request.
TEST(SeedPlan, PoolWithoutIdleConnectionsOpensOnePerRequest) {
  RecordingServer a, b;
  a.Start();
  b.Start();
  const auto plan = Plan(R"(version: "1.0"
config: {baseUrl: "${A}", duration: 30s, pool: {maxIdlePerHost: 0}}
scenarios:
  - name: S
    steps:
      - request: {path: /a}
      - request: {path: "${B}/b"}
)",
                         {{"${A}", a.url()}, {"${B}", b.url()}}, 10, 1);
  const auto out = fakes::RunEngine(plan, true);
  a.Stop();
  b.Stop();
  EXPECT_EQ(a.requests_to("/a").size(), 10u);
  EXPECT_EQ(b.requests_to("/b").size(), 10u);
  const auto* connecting = out.snapshot.FindTrend(names::kConnecting, {});
  ASSERT_NE(connecting, nullptr);
  EXPECT_EQ(connecting->count(), 20u);
}

}  // namespace
}  // namespace volley
