// Consul discovery against the fake Consul agent (test/fakes/fake_consul.h).
#include "volley/cluster/consul_discovery.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "fakes/fake_consul.h"
#include "fakes/free_port.h"
#include "volley/common/http_server.h"

namespace volley::cluster {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

template <typename F>
bool WaitFor(F cond, milliseconds timeout = milliseconds(15'000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return cond();
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

// The node's /health/cluster: always 200.
struct HealthEndpoint {
  HealthEndpoint() {
    http::Router router;
    router.Handle("GET", "/health/cluster",
                  [](const http::Request&, http::Response& res) { res.body = "{}"; });
    server = std::move(*http::HttpServer::Start({"127.0.0.1", 0}, {}, std::move(router)));
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server->port()) + "/health/cluster";
  }
  std::unique_ptr<http::HttpServer> server;
};

ConsulOptions Options(const std::string& consul_url, const std::string& check_url, int port) {
  ConsulOptions o;
  o.addr = consul_url;
  o.node_id = "n" + std::to_string(port);
  o.region = "local";
  o.service_id = "loadtest-cluster-" + o.node_id;
  o.address = "127.0.0.1";
  o.port = port;
  o.check_url = check_url;
  o.min_query_interval = milliseconds(20);
  o.max_backoff = milliseconds(200);
  o.role_poll = milliseconds(10);
  return o;
}

TEST(ConsulDiscoveryTest, RegistersTheSeedDefinitionAndFollowsTheRole) {
  auto consul = std::move(*fakes::FakeConsul::Start());
  HealthEndpoint health;
  std::atomic<int> role{-1};
  auto d = ConsulDiscovery::Start(Options(consul->url(), health.url(), 7000),
                                  [&]() -> std::optional<Role> {
                                    if (role < 0) return std::nullopt;
                                    return static_cast<Role>(role.load());
                                  });
  ASSERT_TRUE(WaitFor([&] { return consul->Service("loadtest-cluster-n7000").has_value(); }));
  auto s = *consul->Service("loadtest-cluster-n7000");
  EXPECT_EQ(s.name, "loadtest-cluster");
  EXPECT_EQ(s.tags, std::vector<std::string>{"forming"});
  EXPECT_EQ(s.address, "127.0.0.1");
  EXPECT_EQ(s.port, 7000);
  EXPECT_EQ(s.meta["node_id"], "n7000");
  ASSERT_EQ(s.checks.size(), 1u);
  EXPECT_EQ(s.checks[0].http, health.url());
  EXPECT_EQ(s.checks[0].interval, milliseconds(5000));
  EXPECT_EQ(s.checks[0].timeout, milliseconds(2000));
  EXPECT_EQ(s.checks[0].deregister_after, milliseconds(60'000));

  // The check passes: the watcher sees this node among the passing instances.
  ASSERT_TRUE(WaitFor([&] { return d->Health().peers.size() == 1; }));
  DiscoveryHealth h = d->Health();
  EXPECT_EQ(h.state, "ok");
  EXPECT_EQ(h.last_error, "");
  EXPECT_EQ(h.peers[0].address, "127.0.0.1:7000");
  EXPECT_EQ(h.registered_tag, "forming");

  for (Role r : {Role::kFollower, Role::kLeader, Role::kFollower}) {
    role = static_cast<int>(r);
    ASSERT_TRUE(WaitFor([&] {
      return consul->Service("loadtest-cluster-n7000")->tags ==
             std::vector<std::string>{RoleName(r)};
    })) << RoleName(r);
    ASSERT_TRUE(WaitFor([&] {
      auto p = d->Health().peers;
      return p.size() == 1 && p[0].tags == std::vector<std::string>{RoleName(r)};
    })) << "the blocking query sees the new tag";
  }
  EXPECT_EQ(consul->Service("loadtest-cluster-n7000")->registrations, 4u);
  d->Stop();
  EXPECT_FALSE(consul->Service("loadtest-cluster-n7000").has_value());
}

TEST(ConsulDiscoveryTest, RetriesUntilConsulAppears) {
  const uint16_t port = testing::FreeLoopbackPort();
  HealthEndpoint health;
  auto d = ConsulDiscovery::Start(
      Options("http://127.0.0.1:" + std::to_string(port), health.url(), 7001), nullptr);
  ASSERT_TRUE(WaitFor([&] { return d->Health().failures >= 3; }));
  DiscoveryHealth h = d->Health();
  EXPECT_EQ(h.state, "degraded");
  EXPECT_NE(h.last_error.find("Consul at http://127.0.0.1:" + std::to_string(port) + ": "),
            std::string::npos)
      << h.last_error;
  fakes::FakeConsulOptions o;
  o.listen = "127.0.0.1:" + std::to_string(port);
  auto consul = fakes::FakeConsul::Start(o);
  ASSERT_TRUE(consul) << consul.error().message;
  ASSERT_TRUE(WaitFor([&] { return d->Health().state == "ok" && d->Health().peers.size() == 1; }));
  EXPECT_TRUE((*consul)->Service("loadtest-cluster-n7001").has_value());

  // Consul goes away: degraded again, the last list is kept.
  (*consul)->Stop();
  ASSERT_TRUE(WaitFor([&] { return d->Health().state == "degraded"; }));
  EXPECT_EQ(d->Health().peers.size(), 1u);
  d->Stop();  // the deregistration fails (nobody listens); Stop still returns
}

TEST(ConsulDiscoveryTest, TokenIsSentAndItsAbsenceIsExplained) {
  fakes::FakeConsulOptions fo;
  fo.acl_token = "tok-123";
  auto consul = std::move(*fakes::FakeConsul::Start(fo));
  HealthEndpoint health;
  auto without = ConsulDiscovery::Start(Options(consul->url(), health.url(), 7002), nullptr);
  ASSERT_TRUE(WaitFor([&] { return without->Health().failures >= 2; }));
  const std::string error = without->Health().last_error;
  EXPECT_NE(error.find("HTTP 403: Permission denied (set CONSUL_HTTP_TOKEN)"), std::string::npos)
      << error;
  EXPECT_EQ(error.find("tok-123"), std::string::npos);
  without->Stop();
  ConsulOptions o = Options(consul->url(), health.url(), 7003);
  o.token = "tok-123";
  auto with = ConsulDiscovery::Start(o, nullptr);
  ASSERT_TRUE(WaitFor([&] { return with->Health().state == "ok"; }));
  with->Stop();
  EXPECT_TRUE(consul->Services().empty());  // deregistered with the token
}

TEST(ConsulDiscoveryTest, ParsesHealthAnswers) {
  auto peers = ParseConsulHealth(R"([
    {"Node":{"Address":"10.0.0.9"},"Service":{"ID":"a","Address":"","Port":7000,"Tags":["leader"]}},
    {"Node":{"Address":"10.0.0.9"},"Service":{"ID":"b","Address":"::1","Port":7001,"Tags":[]}},
    {"Node":{"Address":"x"},"Service":{"ID":"c","Address":"LOCALHOST","Port":7002}}])");
  ASSERT_TRUE(peers) << peers.error().message;
  ASSERT_EQ(peers->size(), 3u);
  EXPECT_EQ((*peers)[0].address, "10.0.0.9:7000");  // empty Service.Address: the node's
  EXPECT_EQ((*peers)[0].tags, std::vector<std::string>{"leader"});
  EXPECT_EQ((*peers)[1].address, "[::1]:7001");
  EXPECT_EQ((*peers)[2].address, "127.0.0.1:7002");
  EXPECT_EQ(ParseConsulHealth("[]")->size(), 0u);
  for (const char* bad : {"", "{}", "[1]", R"([{"Service":{"ID":"a","Port":0}}])",
                          R"([{"Service":{"ID":"a","Address":"h","Port":70000}}])"}) {
    auto r = ParseConsulHealth(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kProtocol);
  }
}

TEST(ConsulDiscoveryTest, OptionsFromEnvironment) {
  ClusterOptions c;
  c.node_id = "node-a";
  c.bind_addr = "127.0.0.1:7100";
  std::map<std::string, std::string> env;
  auto lookup = [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto o = ConsulOptionsFromEnv(lookup, c, "http://127.0.0.1:8080");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->addr, "http://127.0.0.1:8500");
  EXPECT_EQ(o->service, "loadtest-cluster");
  EXPECT_EQ(o->service_id, "loadtest-cluster-node-a");
  EXPECT_EQ(o->address, "127.0.0.1");
  EXPECT_EQ(o->port, 7100);
  EXPECT_EQ(o->check_url, "http://127.0.0.1:8080/health/cluster");
  EXPECT_EQ(o->bootstrap_expect, 3u);
  const json reg = json::parse(ConsulRegistration(*o, Role::kForming));
  EXPECT_EQ(reg["Name"], "loadtest-cluster");
  EXPECT_EQ(reg["Tags"], json::array({"forming"}));
  EXPECT_EQ(reg["Port"], 7100);
  EXPECT_EQ(reg["Check"]["Interval"], "5s");
  EXPECT_EQ(reg["Check"]["Timeout"], "2s");
  EXPECT_EQ(reg["Check"]["DeregisterCriticalServiceAfter"], "1m");

  env = {{"CONSUL_ADDR", "consul.local:8501/"},
         {"CONSUL_HTTP_TOKEN", " t "},
         {"CONSUL_SERVICE_NAME", "lt"},
         {"CONSUL_BOOTSTRAP_EXPECT", "5"}};
  o = ConsulOptionsFromEnv(lookup, c, "");
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->addr, "http://consul.local:8501");
  EXPECT_EQ(o->token, "t");
  EXPECT_EQ(o->service_id, "lt-node-a");
  EXPECT_EQ(o->bootstrap_expect, 5u);

  env = {{"CONSUL_ADDR", "http://h:8500/v1"},
         {"CONSUL_SERVICE_NAME", "a_b"},
         {"CONSUL_BOOTSTRAP_EXPECT", "0"},
         {"CONSUL_DEREGISTER_AFTER", "soon"}};
  o = ConsulOptionsFromEnv(lookup, c, "");
  ASSERT_FALSE(o);
  for (const char* v : {"CONSUL_ADDR:", "CONSUL_SERVICE_NAME:", "CONSUL_BOOTSTRAP_EXPECT:",
                        "CONSUL_DEREGISTER_AFTER:"}) {
    EXPECT_NE(o.error().message.find(v), std::string::npos) << o.error().message;
  }
}

}  // namespace
}  // namespace volley::cluster
