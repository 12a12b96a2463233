// The fake Consul agent against Consul's documented behaviour (specs/integrations.md §1):
// checks that really run, ?passing, blocking queries, KV, ACL tokens, the reaper.
#include "fakes/fake_consul.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "volley/common/base64.h"
#include "volley/common/http_client.h"
#include "volley/common/http_server.h"

namespace volley::fakes {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;

template <typename F>
bool WaitFor(F cond, milliseconds timeout = milliseconds(10'000)) {
  const auto deadline = Steady::now() + timeout;
  while (!cond()) {
    if (Steady::now() > deadline) return cond();
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

// The node's health endpoint: answers `status`, records when it was asked.
class HealthTarget {
 public:
  HealthTarget() {
    http::Router router;
    router.Handle("GET", "/health", [this](const http::Request& req, http::Response& res) {
      {
        std::lock_guard<std::mutex> l(mu_);
        hits_.push_back(Steady::now());
        last_header_ = std::string(req.headers.Get("X-Probe"));
      }
      if (hang_) std::this_thread::sleep_for(milliseconds(1500));
      res.status = status_;
      res.body = "ok";
    });
    server_ = std::move(*http::HttpServer::Start({"127.0.0.1", 0}, {}, std::move(router)));
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + "/health";
  }
  std::vector<Steady::time_point> hits() {
    std::lock_guard<std::mutex> l(mu_);
    return hits_;
  }
  std::string last_header() {
    std::lock_guard<std::mutex> l(mu_);
    return last_header_;
  }
  std::atomic<int> status_{200};
  std::atomic<bool> hang_{false};

 private:
  std::mutex mu_;
  std::vector<Steady::time_point> hits_;
  std::string last_header_;
  std::unique_ptr<http::HttpServer> server_;
};

class FakeConsulTest : public ::testing::Test {
 protected:
  void StartConsul(FakeConsulOptions o = {}) {
    auto c = FakeConsul::Start(std::move(o));
    ASSERT_TRUE(c) << c.error().message;
    consul_ = std::move(*c);
  }
  http::ClientResponse Call(const std::string& method, const std::string& path,
                            std::string body = "", std::string token = "") {
    http::HttpClient client;
    http::ClientRequest q;
    q.method = method;
    q.url = consul_->url() + path;
    q.body = std::move(body);
    if (!token.empty()) q.headers.Add("X-Consul-Token", token);
    auto r = client.Send(q);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : http::ClientResponse{};
  }
  json Passing(const std::string& name = "web") {
    return json::parse(Call("GET", "/v1/health/service/" + name + "?passing").body);
  }
  std::unique_ptr<FakeConsul> consul_;
};

json Definition(const std::string& id, const std::string& url, const std::string& tag,
                const std::string& interval = "100ms") {
  return json{{"ID", id},
              {"Name", "web"},
              {"Tags", {tag}},
              {"Address", "127.0.0.1"},
              {"Port", 7000},
              {"Check",
               {{"HTTP", url},
                {"Interval", interval},
                {"Timeout", "500ms"},
                {"Header", {{"X-Probe", {"yes"}}}}}}};
}

TEST_F(FakeConsulTest, HttpCheckRunsAndGatesPassing) {
  StartConsul();
  HealthTarget target;
  EXPECT_EQ(
      Call("PUT", "/v1/agent/service/register", Definition("a", target.url(), "forming").dump())
          .status,
      200);
  // Checks start critical: listed in the catalog, not yet passing until the first run.
  ASSERT_TRUE(WaitFor([&] { return Passing().size() == 1; }));
  const json e = Passing()[0];
  EXPECT_EQ(e["Service"]["ID"], "a");
  EXPECT_EQ(e["Service"]["Port"], 7000);
  EXPECT_EQ(e["Service"]["Tags"], json::array({"forming"}));
  EXPECT_EQ(e["Node"]["Address"], "127.0.0.1");
  ASSERT_EQ(e["Checks"].size(), 2u);
  EXPECT_EQ(e["Checks"][0]["CheckID"], "serfHealth");
  EXPECT_EQ(e["Checks"][1]["CheckID"], "service:a");
  EXPECT_EQ(e["Checks"][1]["Status"], "passing");
  EXPECT_EQ(target.last_header(), "yes");

  target.status_ = 500;
  ASSERT_TRUE(WaitFor([&] { return Passing().empty(); }));
  const json all = json::parse(Call("GET", "/v1/health/service/web").body);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["Checks"][1]["Status"], "critical");
  EXPECT_EQ(json::parse(Call("GET", "/v1/catalog/service/web").body).size(), 1u);

  target.status_ = 429;
  ASSERT_TRUE(WaitFor([&] { return consul_->Service("a")->checks[0].status == "warning"; }));
  EXPECT_TRUE(Passing().empty());  // warning is not passing
  EXPECT_EQ(Call("GET", "/v1/health/service/web?passing=maybe").status, 400);
  EXPECT_EQ(Call("GET", "/v1/health/service/nobody?passing").body, "[]");
}

TEST_F(FakeConsulTest, ChecksRunAtTheirIntervalAndTimeOut) {
  StartConsul();
  HealthTarget target;
  Call("PUT", "/v1/agent/service/register", Definition("a", target.url(), "x", "200ms").dump());
  ASSERT_TRUE(WaitFor([&] { return target.hits().size() >= 4; }));
  const auto hits = target.hits();
  for (size_t i = 1; i < hits.size(); ++i) {
    EXPECT_GE(hits[i] - hits[i - 1], milliseconds(199)) << "run " << i;
  }
  target.hang_ = true;  // answers after 1.5 s; the check's Timeout is 500ms
  ASSERT_TRUE(WaitFor([&] { return consul_->Service("a")->checks[0].status == "critical"; }));
  EXPECT_NE(consul_->Service("a")->checks[0].output.find("Get \"" + target.url()),
            std::string::npos);
  target.hang_ = false;
}

TEST_F(FakeConsulTest, ReRegisteringChangesTagsAndKeepsTheCheckStatus) {
  StartConsul();
  HealthTarget target;
  Call("PUT", "/v1/agent/service/register", Definition("a", target.url(), "forming", "1h").dump());
  ASSERT_TRUE(WaitFor([&] { return Passing().size() == 1; }));
  Call("PUT", "/v1/agent/service/register", Definition("a", target.url(), "leader", "1h").dump());
  const json p = Passing();
  ASSERT_EQ(p.size(), 1u);  // still passing: no new run was needed (interval 1h)
  EXPECT_EQ(p[0]["Service"]["Tags"], json::array({"leader"}));
  EXPECT_EQ(consul_->Service("a")->registrations, 2u);
  EXPECT_EQ(consul_->Services().size(), 1u);
}

TEST_F(FakeConsulTest, DeregisterUnknownIs404) {
  StartConsul();
  EXPECT_EQ(Call("PUT", "/v1/agent/service/deregister/nope").status, 404);
  Call("PUT", "/v1/agent/service/register", R"({"Name":"web","ID":"b","Port":1})");
  EXPECT_EQ(consul_->Services().size(), 1u);
  EXPECT_EQ(Call("PUT", "/v1/agent/service/deregister/b").status, 200);
  EXPECT_TRUE(consul_->Services().empty());
  EXPECT_EQ(Call("PUT", "/v1/agent/service/register", R"({"ID":"x"})").status, 400);
  EXPECT_EQ(Call("PUT", "/v1/agent/service/register",
                 R"({"Name":"w","Check":{"HTTP":"http://127.0.0.1:1/"}})")
                .status,
            400);  // an HTTP check needs an Interval
}

TEST_F(FakeConsulTest, CriticalServicesAreReaped) {
  FakeConsulOptions o;
  o.reap_interval = milliseconds(50);
  o.min_deregister_after = milliseconds(0);
  StartConsul(o);
  json def = Definition("dead", "http://127.0.0.1:1/health", "x");
  def["Check"]["DeregisterCriticalServiceAfter"] = "300ms";
  const auto start = Steady::now();  // before the registration: critical from then on
  Call("PUT", "/v1/agent/service/register", def.dump());
  json kept = Definition("kept", "http://127.0.0.1:1/health", "x");  // no deregistration
  Call("PUT", "/v1/agent/service/register", kept.dump());
  ASSERT_TRUE(WaitFor([&] { return !consul_->Service("dead"); }));
  EXPECT_GE(Steady::now() - start, milliseconds(300));
  EXPECT_TRUE(consul_->Service("kept"));
}

TEST_F(FakeConsulTest, MinimumDeregisterAfterIsOneMinute) {
  StartConsul();
  json def = Definition("a", "http://127.0.0.1:1/health", "x");
  def["Check"]["DeregisterCriticalServiceAfter"] = "1s";
  Call("PUT", "/v1/agent/service/register", def.dump());
  EXPECT_EQ(consul_->Service("a")->checks[0].deregister_after, milliseconds(60'000));
}

TEST_F(FakeConsulTest, KvValuesAreBase64AndMissingKeysAre404) {
  StartConsul();
  EXPECT_EQ(Call("GET", "/v1/kv/loadtest/config").status, 404);
  EXPECT_EQ(Call("PUT", "/v1/kv/loadtest/config", "a: 1\n").body, "true");
  auto r = Call("GET", "/v1/kv/loadtest/config");
  ASSERT_EQ(r.status, 200);
  const json j = json::parse(r.body);
  EXPECT_EQ(j[0]["Key"], "loadtest/config");
  EXPECT_EQ(*Base64Decode(j[0]["Value"].get<std::string>()), "a: 1\n");
  EXPECT_EQ(std::to_string(j[0]["ModifyIndex"].get<uint64_t>()), r.headers.Get("X-Consul-Index"));
  EXPECT_EQ(Call("GET", "/v1/kv/loadtest/config?raw").body, "a: 1\n");
  EXPECT_EQ(Call("PUT", "/v1/kv/loadtest/config?cas=0", "b").body, "false");  // exists
  EXPECT_EQ(Call("PUT", "/v1/kv/new?cas=0", "b").body, "true");
  EXPECT_EQ(*consul_->GetKv("new"), "b");
}

TEST_F(FakeConsulTest, BlockingQueriesWaitForAChangeOrTheWait) {
  StartConsul();
  consul_->PutKv("k", "v1");
  auto r = Call("GET", "/v1/kv/k");
  const uint64_t index = std::stoull(std::string(r.headers.Get("X-Consul-Index")));
  // No change: answers after the wait with the same index.
  auto start = Steady::now();
  r = Call("GET", "/v1/kv/k?index=" + std::to_string(index) + "&wait=300ms");
  EXPECT_GE(Steady::now() - start, milliseconds(300));
  EXPECT_EQ(std::stoull(std::string(r.headers.Get("X-Consul-Index"))), index);
  // A change wakes it before its 20 s wait.
  std::thread writer([&] {
    WaitFor([&] { return consul_->requests() >= 3; });
    std::this_thread::sleep_for(milliseconds(50));
    consul_->PutKv("k", "v2");
  });
  start = Steady::now();
  r = Call("GET", "/v1/kv/k?index=" + std::to_string(index) + "&wait=20s");
  writer.join();
  EXPECT_LT(Steady::now() - start, milliseconds(15'000));
  EXPECT_GT(std::stoull(std::string(r.headers.Get("X-Consul-Index"))), index);
  EXPECT_EQ(*Base64Decode(json::parse(r.body)[0]["Value"].get<std::string>()), "v2");
  // Index 0 never blocks.
  start = Steady::now();
  Call("GET", "/v1/health/service/web?index=0&wait=20s");
  EXPECT_LT(Steady::now() - start, milliseconds(15'000));
  EXPECT_EQ(Call("GET", "/v1/kv/k?index=abc").status, 400);
}

TEST_F(FakeConsulTest, StopWakesBlockedQueries) {
  StartConsul();
  const uint64_t index = consul_->index();
  std::thread waiter([&] {
    http::HttpClient client;
    http::ClientRequest q;
    q.method = "GET";
    q.url = consul_->url() + "/v1/health/service/web?index=" + std::to_string(index) + "&wait=60s";
    q.timeout = std::chrono::seconds(30);
    (void)client.Send(q);
  });
  ASSERT_TRUE(WaitFor([&] { return consul_->requests() >= 1; }));
  const auto start = Steady::now();
  consul_->Stop();
  waiter.join();
  EXPECT_LT(Steady::now() - start, milliseconds(15'000));
}

TEST_F(FakeConsulTest, AclTokenIsRequired) {
  FakeConsulOptions o;
  o.acl_token = "s3cret";
  StartConsul(o);
  auto r = Call("GET", "/v1/health/service/web");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "Permission denied");
  r = Call("GET", "/v1/health/service/web", "", "wrong");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, "ACL not found");
  EXPECT_EQ(Call("GET", "/v1/health/service/web", "", "s3cret").status, 200);
  http::HttpClient client;
  http::ClientRequest q;
  q.method = "GET";
  q.url = consul_->url() + "/v1/kv/x";
  q.headers.Add("Authorization", "Bearer s3cret");
  EXPECT_EQ(client.Send(q)->status, 404);  // authorized; the key is missing
}

}  // namespace
}  // namespace volley::fakes
