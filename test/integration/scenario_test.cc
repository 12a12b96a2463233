// The scenario executor end to end: YAML plans run by the engine against a loopback server
// that records what arrived. The exact paths, headers, bodies and cookies it saw prove
// substitution, extraction and per-user cookie jars; the metrics prove assertion counting,
// weights, data strategies, retries and timeouts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

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

// A plan from YAML text whose ${BASE} is the server's URL. `iterations` bounds the run
// (the duration is only a safety net).
config::TestPlan Plan(const std::string& yaml, const RecordingServer& server, uint64_t iterations,
                      int workers = 2) {
  std::string text = yaml;
  const size_t at = text.find("${BASE}");
  if (at != std::string::npos) text.replace(at, 7, server.url());
  auto plan = config::ParsePlanYaml(text, "test.yaml");
  EXPECT_TRUE(plan) << plan.error().message;
  if (!plan) return {};
  plan->max_requests = iterations;
  plan->workers = workers;
  plan->threads = std::min(2, workers);
  plan->metrics_addr.clear();
  return *plan;
}

double Count(const metrics::Snapshot& s, const char* name, const metrics::Labels& labels) {
  const metrics::Counter* c = s.FindCounter(name, labels);
  return c ? c->value : 0;
}

TEST(Scenario, SubstitutesExtractedValuesIntoPathQueryHeadersAndBody) {
  RecordingServer server;
  server.On("/login", [](const RecordedRequest&, FakeResponse& res) {
    res.set_header("X-Auth", "h9");
    res.set_header("Set-Cookie", "session=s1; Path=/");
    res.set_content(R"({"token":"abc 123","items":[{"id":7},{"id":8}],"n":{"k":"v"}})",
                    "application/json");
  });
  server.On("/items/7", [](const RecordedRequest&, FakeResponse& res) {
    res.set_content("Transaction ID: 4242", "text/plain");
  });
  server.On("/done/4242",
            [](const RecordedRequest&, FakeResponse& res) { res.set_content("ok", "text/plain"); });
  server.Start();
  const char* yaml = R"yaml(version: "1.0"
config: {baseUrl: "${BASE}", duration: 20s}
scenarios:
  - name: Shop
    steps:
      - name: Login
        request: {method: POST, path: /login, body: '{"user":"u"}'}
        extract:
          - {type: jsonPath, name: token, jsonPath: "$.token"}
          - {type: jsonPath, name: id, jsonPath: "$.items[0].id"}
          - {type: jsonPath, name: k, jsonPath: "$['n'].k"}
          - {type: header, name: hdr, header: x-auth}
          - {type: cookie, name: sess, cookie: session}
      - name: Item
        request:
          method: PUT
          path: "/items/${id}"
          queryParams: {q: "${token}", k: "${k}"}
          headers: {Authorization: "Bearer ${token}", X-H: "${hdr}"}
          body: '{"s":"${sess}"}'
        extract:
          - {type: regex, name: tx, regex: "Transaction ID: (\\d+)"}
      - name: Done
        request: {path: "/done/${tx}"}
)yaml";
  auto out = fakes::RunEngine(Plan(yaml, server, 5), true);
  const auto items = server.requests_to("/items/7");
  ASSERT_EQ(items.size(), 5u);
  for (const RecordedRequest& r : items) {
    EXPECT_EQ(r.method, "PUT");
    EXPECT_EQ(r.query, "q=abc%20123&k=v");
    EXPECT_EQ(r.Header("authorization"), "Bearer abc 123");
    EXPECT_EQ(r.Header("x-h"), "h9");
    EXPECT_EQ(r.Header("cookie"), "session=s1");
    EXPECT_EQ(r.body, R"({"s":"s1"})");
    EXPECT_EQ(r.Header("content-length"), "10");
  }
  EXPECT_EQ(server.requests_to("/done/4242").size(), 5u);
  const auto logins = server.requests_to("/login");
  ASSERT_EQ(logins.size(), 5u);
  EXPECT_EQ(logins[0].body, R"({"user":"u"})");
  const metrics::Labels shop{{names::kScenarioLabel, "Shop"}};
  EXPECT_EQ(Count(out.snapshot, names::kScenarioRequests, shop), 15);
  EXPECT_EQ(Count(out.snapshot, names::kScenarioExecutions, {shop[0], {"status", "success"}}), 5);
  EXPECT_EQ(out.summary.errors_total, 0u);
}

// Each user has its own cookie jar: a user's second request carries the cookie its own
// first response set, never another user's.
TEST(Scenario, CookiesArePerUser) {
  RecordingServer server;
  std::atomic<int> next{0};
  server.On("/login", [&](const RecordedRequest&, FakeResponse& res) {
    const int uid = next++;
    res.set_header("Set-Cookie", "uid=" + std::to_string(uid));
    res.set_content("{\"uid\":" + std::to_string(uid) + "}", "application/json");
  });
  server.On("/me", [](const RecordedRequest&, FakeResponse& res) { res.status = 200; });
  server.Start();
  const char* yaml = R"yaml(version: "1.0"
config: {baseUrl: "${BASE}", duration: 20s}
scenarios:
  - name: U
    steps:
      - request: {path: /login}
        extract: [{type: jsonPath, name: uid, jsonPath: "$.uid"}]
      - request: {path: /me, headers: {X-Uid: "${uid}"}}
)yaml";
  fakes::RunEngine(Plan(yaml, server, 400, 8), true);
  const auto me = server.requests_to("/me");
  ASSERT_EQ(me.size(), 400u);
  for (const RecordedRequest& r : me) {
    ASSERT_EQ(r.Header("cookie"), "uid=" + r.Header("x-uid"));
  }
}

TEST(Scenario, AssertionsAreCountedPerStepAndDoNotStopTheUser) {
  RecordingServer server;
  server.On("/a", [](const RecordedRequest&, FakeResponse& res) {
    res.set_header("X-Request-ID", "r1");
    res.set_content(R"({"ok":true,"name":"id-17","n":1})", "application/json");
  });
  server.On("/b", [](const RecordedRequest&, FakeResponse& res) { res.status = 404; });
  server.Start();
  const char* yaml = R"yaml(version: "1.0"
config: {baseUrl: "${BASE}", duration: 20s}
scenarios:
  - name: S
    steps:
      - name: A
        request: {path: /a}
        assertions:
          - {type: statusCode, expected: 200}
          - {type: responseTime, max: 10s}
          - {type: bodyContains, text: "id-"}
          - {type: bodyContains, text: "nope"}
          - {type: bodyMatches, regex: "id-\\d+"}
          - {type: jsonPath, path: "$.ok", expected: "true"}
          - {type: jsonPath, path: "$.n", expected: "2"}
          - {type: jsonPath, path: "$.name"}
          - {type: headerExists, header: x-request-id}
          - {type: headerExists, header: X-Missing}
      - name: B
        request: {path: /b}
        assertions: [{type: statusCode, expected: 404}]
)yaml";
  auto out = fakes::RunEngine(Plan(yaml, server, 30), true);
  const metrics::Labels a{{names::kScenarioLabel, "S"}, {names::kStepLabel, "A"}};
  const metrics::Labels b{{names::kScenarioLabel, "S"}, {names::kStepLabel, "B"}};
  auto with = [](metrics::Labels l, const char* k, const char* v) {
    l.emplace_back(k, v);
    return l;
  };
  EXPECT_EQ(Count(out.snapshot, names::kAssertions, with(a, "result", "passed")), 7 * 30);
  EXPECT_EQ(Count(out.snapshot, names::kAssertions, with(a, "result", "failed")), 3 * 30);
  EXPECT_EQ(Count(out.snapshot, names::kStepsTotal, with(a, "status", "failure")), 30);
  // A 404 the plan expects passes its assertion, but a 4xx is still a failed step and a
  // client_error, as in the seed project.
  EXPECT_EQ(Count(out.snapshot, names::kAssertions, with(b, "result", "passed")), 30);
  EXPECT_EQ(Count(out.snapshot, names::kStepsTotal, with(b, "status", "failure")), 30);
  EXPECT_EQ(server.requests_to("/b").size(), 30u);  // failures did not stop the users
  EXPECT_EQ(Count(out.snapshot, names::kScenarioExecutions,
                  {{names::kScenarioLabel, "S"}, {"status", "failure"}}),
            30);
  EXPECT_EQ(out.summary.errors.at("client_error"), 30u);
}

TEST(Scenario, WeightsHoldWithinStatisticalBounds) {
  RecordingServer server;
  for (const char* p : {"/a", "/b", "/c"}) {
    server.On(p, [](const RecordedRequest&, FakeResponse& res) { res.status = 200; });
  }
  server.Start();
  const char* yaml = R"yaml(version: "1.0"
config: {baseUrl: "${BASE}", duration: 60s}
scenarios:
  - {name: A, weight: 60, steps: [{request: {path: /a}}]}
  - {name: B, weight: 30, steps: [{request: {path: /b}}]}
  - {name: C, weight: 10, steps: [{request: {path: /c}}]}
)yaml";
  const int n = 6000;
  fakes::RunEngine(Plan(yaml, server, n, 4), true);
  const std::map<std::string, double> share{{"/a", 0.6}, {"/b", 0.3}, {"/c", 0.1}};
  for (const auto& [path, p] : share) {
    const double got = static_cast<double>(server.requests_to(path).size());
    const double sigma = std::sqrt(n * p * (1 - p));
    EXPECT_NEAR(got, n * p, 5 * sigma) << path;
  }
}

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(Scenario, SequentialDataGivesEachRowOnceThenStopsTheUsers) {
  RecordingServer server;
  server.On("/u", [](const RecordedRequest&, FakeResponse& res) { res.status = 200; });
  server.Start();
  std::string csv = "user,pass\n";
  for (int i = 0; i < 10; ++i)
    csv += "u" + std::to_string(i) + ",\"p,\"\"" + std::to_string(i) + "\"\n";
  const std::string path = WriteFile("seq.csv", csv);
  const std::string yaml = R"yaml(version: "1.0"
config: {baseUrl: "${BASE}", duration: 30s}
scenarios:
  - name: D
    dataFile: {path: ")yaml" +
                           path + R"yaml(", strategy: sequential}
    steps: [{request: {path: "/u", queryParams: {u: "${user}"}, headers: {X-P: "${pass}"}}}]
)yaml";
  // No request budget: the run ends because every user ran out of rows.
  auto plan = Plan(yaml, server, 0, 3);
  auto out = fakes::RunEngine(plan, true);
  const auto got = server.requests_to("/u");
  ASSERT_EQ(got.size(), 10u);
  std::multiset<std::string> users;
  for (const auto& r : got) {
    users.insert(r.query);
    EXPECT_EQ(r.Header("x-p"), "p,\"" + r.query.substr(3));  // "u=uN" -> p,"N
  }
  for (int i = 0; i < 10; ++i) EXPECT_EQ(users.count("u=u" + std::to_string(i)), 1u) << i;
  EXPECT_GE(Count(out.snapshot, names::kDataExhausted, {{names::kScenarioLabel, "D"}}), 3);
}

TEST(Scenario, CycleDataWrapsAroundInOrderAndRandomStaysInTheFile) {
  RecordingServer server;
  server.On("/c", [](const RecordedRequest&, FakeResponse& res) { res.status = 200; });
  server.On("/r", [](const RecordedRequest&, FakeResponse& res) { res.status = 200; });
  server.Start();
  const std::string json = WriteFile(
      "rows.json", R"([{"id": 1, "tag": "x"}, {"id": 2, "tag": "y"}, {"id": 3, "tag": "z"}])");
  const std::string yaml = R"yaml(version: "1.0"
config: {baseUrl: "${BASE}", duration: 30s}
scenarios:
  - name: C
    dataFile: {path: ")yaml" +
                           json + R"yaml(", strategy: cycle}
    steps: [{request: {path: "/c", queryParams: {id: "${id}"}}}]
  - name: R
    dataFile: {path: ")yaml" +
                           json + R"yaml(", format: json, strategy: random}
    steps: [{request: {path: "/r", queryParams: {tag: "${tag}"}}}]
)yaml";
  fakes::RunEngine(Plan(yaml, server, 400, 4), true);
  std::map<std::string, int> cycle, random;
  for (const auto& r : server.requests_to("/c")) ++cycle[r.query];
  for (const auto& r : server.requests_to("/r")) ++random[r.query];
  int total = 0;
  for (const auto& [q, n] : cycle) total += n;
  // Rows are handed out in order from one shared position: counts differ by at most one.
  ASSERT_EQ(cycle.size(), 3u);
  for (const auto& [q, n] : cycle) EXPECT_NEAR(n, total / 3.0, 1.0) << q;
  for (const auto& [q, n] : random) {
    EXPECT_TRUE(q == "tag=x" || q == "tag=y" || q == "tag=z") << q;
  }
  EXPECT_EQ(random.size(), 3u);
}

TEST(Scenario, ThinkTimeSeparatesSteps) {
  RecordingServer server;
  std::atomic<int> next{0};
  std::mutex mu;
  std::map<std::string, Nanos> first_seen;
  std::vector<Nanos> gaps;
  server.On("/one", [&](const RecordedRequest&, FakeResponse& res) {
    const std::string id = std::to_string(next++);
    {
      std::lock_guard<std::mutex> lock(mu);
      first_seen[id] = MonotonicNow();
    }
    res.set_content("{\"id\":\"" + id + "\"}", "application/json");
  });
  server.On("/two", [&](const RecordedRequest& r, FakeResponse& res) {
    std::lock_guard<std::mutex> lock(mu);
    gaps.push_back(MonotonicNow() - first_seen[r.Header("x-id")]);
    res.status = 200;
  });
  server.Start();
  const char* yaml = R"yaml(version: "1.0"
config: {baseUrl: "${BASE}", duration: 30s}
scenarios:
  - name: T
    steps:
      - request: {path: /one}
        extract: [{type: jsonPath, name: id, jsonPath: "$.id"}]
        thinkTime: {min: 40ms, max: 60ms}
      - request: {path: /two, headers: {X-Id: "${id}"}}
        thinkTime: "20"
)yaml";
  auto out = fakes::RunEngine(Plan(yaml, server, 20, 2), true);
  server.Stop();  // no handler runs after this; the lock tells TSan so too
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(gaps.size(), 20u);
  for (Nanos g : gaps) EXPECT_GE(g, std::chrono::milliseconds(40));
  // The iteration includes both pauses (40 + 20 ms at least).
  const auto* d = out.snapshot.FindTrend(names::kScenarioDuration, {{names::kScenarioLabel, "T"}});
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->count(), 20u);
  EXPECT_GE(d->min(), 0.060);
}

TEST(Scenario, UndefinedVariableAtRunTimeIsAnOtherErrorAndRetriesRecover) {
  RecordingServer server;
  std::atomic<int> flaky{0};
  server.On("/empty", [](const RecordedRequest&, FakeResponse& res) {
    res.set_content("{}", "application/json");
  });
  server.On("/flaky", [&](const RecordedRequest&, FakeResponse& res) {
    res.status = flaky++ % 3 == 2 ? 200 : 503;  // two 503s, then a 200
  });
  server.Start();
  const char* yaml = R"yaml(version: "1.0"
config: {baseUrl: "${BASE}", duration: 20s}
scenarios:
  - name: V
    config: {retryCount: 2, retryDelay: 5ms}
    steps:
      - request: {path: /empty}
        extract: [{type: jsonPath, name: missing, jsonPath: "$.nothing"}]
      - request: {path: "/never/${missing}"}
      - request: {path: /flaky}
)yaml";
  auto out = fakes::RunEngine(Plan(yaml, server, 4, 1), true);
  EXPECT_EQ(out.summary.errors.at("other_error"), 4u);   // one undefined per iteration
  EXPECT_EQ(out.summary.errors.at("server_error"), 8u);  // two 503s per iteration, retried
  EXPECT_EQ(server.requests_to("/flaky").size(), 12u);
  const metrics::Labels step3{{names::kScenarioLabel, "V"}, {names::kStepLabel, "step3"}};
  auto with = [](metrics::Labels l, const char* v) {
    l.emplace_back("status", v);
    return l;
  };
  EXPECT_EQ(Count(out.snapshot, names::kStepsTotal, with(step3, "success")), 4);
  EXPECT_EQ(Count(out.snapshot, names::kStepsTotal, with(step3, "failure")), 0);
}

TEST(Scenario, PerScenarioTimeoutApplies) {
  RecordingServer server;
  server.On("/slow", [](const RecordedRequest&, FakeResponse& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the server is slow
    res.status = 200;
  });
  server.On("/fast", [](const RecordedRequest&, FakeResponse& res) { res.status = 200; });
  server.Start();
  const char* yaml = R"yaml(version: "1.0"
config: {baseUrl: "${BASE}", duration: 20s, timeout: 10s}
scenarios:
  - name: S
    config: {timeout: 100ms}
    steps: [{request: {path: /slow}}, {request: {path: /fast}}]
)yaml";
  auto out = fakes::RunEngine(Plan(yaml, server, 3, 1), true);
  EXPECT_EQ(out.summary.errors.at("timeout_error"), 3u);
  EXPECT_EQ(server.requests_to("/fast").size(), 3u);  // the user went on after the timeout
}

TEST(Scenario, OpenModelArrivalsAreScenarioIterations) {
  RecordingServer server;
  server.On("/x", [](const RecordedRequest&, FakeResponse& res) { res.status = 200; });
  server.On("/y", [](const RecordedRequest&, FakeResponse& res) { res.status = 200; });
  server.Start();
  const char* yaml = R"yaml(version: "1.0"
config: {baseUrl: "${BASE}", duration: 2s, workers: 20}
load: {model: rps, target: 100}
scenarios:
  - name: O
    steps: [{request: {path: /x}}, {request: {path: /y}}]
)yaml";
  auto plan = Plan(yaml, server, 0, 20);
  auto out = fakes::RunEngine(plan);
  const double done = Count(out.snapshot, names::kScenarioExecutions,
                            {{names::kScenarioLabel, "O"}, {"status", "success"}});
  // 100/s for 2 s: 200 arrivals; on a loaded machine the last one or two can fall due after
  // the deadline has fired. Every iteration that started ran both steps to the end.
  EXPECT_NEAR(done, 200, 4);
  EXPECT_EQ(server.requests_to("/x").size(), static_cast<size_t>(done));
  EXPECT_EQ(server.requests_to("/y").size(), static_cast<size_t>(done));
}

// The arrival-rate models all start scenario iterations the same way; `stages` checks a
// varying rate: 0 -> 100/s over 1 s, then 100/s for 1 s is 50 + 100 = 150 iterations.
TEST(Scenario, StagesModelArrivalsAreScenarioIterations) {
  RecordingServer server;
  server.On("/s", [](const RecordedRequest&, FakeResponse& res) { res.status = 200; });
  server.Start();
  const char* yaml = R"yaml(version: "1.0"
config: {baseUrl: "${BASE}", duration: 2s, workers: 20}
load:
  model: stages
  stages: [{duration: 1s, target: 100}, {duration: 1s, target: 100}]
scenarios:
  - name: St
    steps: [{request: {path: /s}, thinkTime: 10ms}]
)yaml";
  auto out = fakes::RunEngine(Plan(yaml, server, 0, 20));
  const double done = Count(out.snapshot, names::kScenarioExecutions,
                            {{names::kScenarioLabel, "St"}, {"status", "success"}});
  EXPECT_NEAR(done, 150, 4);
  EXPECT_EQ(server.requests_to("/s").size(), static_cast<size_t>(done));
  EXPECT_EQ(out.info.abandoned, 0u);
  EXPECT_LT(out.info.elapsed, std::chrono::milliseconds(2500)) << "waited out the grace period";
}

}  // namespace
}  // namespace volley
