// The node's control API in process: its routes, the token rule of issue 17 and the
// slow-client attack, on 127.0.0.1 with deadlines shortened by the test.
#include "control_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes/raw_http.h"

namespace volley::cli {
namespace {

using fakes::Fetch;
using nlohmann::json;
using std::chrono::seconds;

// A plan that would start load if it were accepted (nothing listens on port 9).
constexpr const char* kPlan = R"(version: "1.0"
config: {baseUrl: "http://127.0.0.1:9", duration: 60s, workers: 1}
load: {model: rps, target: 5}
scenarios: [{name: S, steps: [{request: {path: /}}]}]
)";

class ControlApiTest : public ::testing::Test {
 protected:
  void Start(ControlApiOptions options = {}) {
    auto s = StartControlApi({"127.0.0.1", 0}, node_, std::move(options));
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
  }
  std::string State() {
    auto r = Fetch(server_->port(), "GET", "/health");
    return r && r->status == 200 ? json::parse(r->body).value("node_state", "") : "";
  }
  void TearDown() override {
    if (server_) server_->Stop();
    node_.Stop();
  }
  NodeController node_{"n1", "eu"};
  std::unique_ptr<http::HttpServer> server_;
};

TEST_F(ControlApiTest, WithATokenMutatingEndpointsNeedIt) {
  ControlApiOptions o;
  o.token = "s3cret-token";
  Start(std::move(o));
  for (const std::vector<std::string>& auth : {std::vector<std::string>{},
                                               {"Authorization: Bearer wrong-token!"},
                                               {"Authorization: Bearer s3cret-tokem"},
                                               {"Authorization: Token s3cret-token"}}) {
    auto r = Fetch(server_->port(), "POST", "/config", auth, kPlan);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << r->body;
    EXPECT_NE(r->body.find("missing or wrong token"), std::string::npos) << r->body;
    EXPECT_EQ(r->body.find("s3cret"), std::string::npos) << "the token leaks: " << r->body;
    EXPECT_EQ(r->Header("www-authenticate"), "Bearer");
  }
  EXPECT_EQ(State(), "idle");  // nothing started
  auto stop = Fetch(server_->port(), "POST", "/stop");
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 401);
  // Read-only endpoints stay open.
  auto ready = Fetch(server_->port(), "GET", "/ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  // With the token: the plan starts, and stops.
  auto ok =
      Fetch(server_->port(), "POST", "/config", {"Authorization: Bearer s3cret-token"}, kPlan);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(State(), "running");
  stop = Fetch(server_->port(), "POST", "/stop", {"Authorization: bearer  s3cret-token"});
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 200);
  EXPECT_EQ(json::parse(stop->body).value("status", ""), "stopped");
}

TEST_F(ControlApiTest, TheClusterTokenIsAcceptedToo) {
  ControlApiOptions o;
  o.token = "api-token";
  o.cluster_token = "cluster-token";
  Start(std::move(o));
  for (const char* t : {"api-token", "cluster-token"}) {
    auto r = Fetch(server_->port(), "POST", "/stop", {std::string("Authorization: Bearer ") + t});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << t;
  }
  auto r = Fetch(server_->port(), "POST", "/stop", {"Authorization: Bearer other"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST_F(ControlApiTest, ExtraRoutesAndErrorsInTheApisFormat) {
  ControlApiOptions o;
  o.extra_routes = [](http::Router& r) {
    r.Handle("GET", "/health/cluster", [](const http::Request&, http::Response& res) {
      res.content_type = "application/json";
      res.body = R"({"role":"leader"})";
    });
  };
  Start(std::move(o));
  auto r = Fetch(server_->port(), "GET", "/health/cluster");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, R"({"role":"leader"})");
  r = Fetch(server_->port(), "GET", "/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(json::parse(r->body).value("error", "").find("unknown endpoint"), std::string::npos);
  r = Fetch(server_->port(), "POST", "/config", {}, "version: \"1.0\"\nconfig: {duraton: 5s}\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body)["problems"][0].get<std::string>().rfind(
                "config:2:10: config.duraton: unknown key", 0),
            0u)
      << r->body;
  r = Fetch(server_->port(), "POST", "/config", {}, std::string((1 << 20) + 1, '#'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(json::parse(r->body).contains("error"));
}

TEST(ControlApiExposure, NonLoopbackWithoutATokenIsRefusedUnlessInsecure) {
  auto r = CheckExposure({"0.0.0.0", 8080}, "", false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("VOLLEY_API_TOKEN"), std::string::npos);
  EXPECT_NE(r.error().message.find("VOLLEY_INSECURE=true"), std::string::npos);
  EXPECT_NE(r.error().message.find("--listen 127.0.0.1"), std::string::npos);
  EXPECT_TRUE(CheckExposure({"0.0.0.0", 8080}, "t", false));
  EXPECT_TRUE(CheckExposure({"0.0.0.0", 8080}, "", true));
  EXPECT_TRUE(CheckExposure({"127.0.0.1", 8080}, "", false));
  EXPECT_TRUE(CheckExposure({"::1", 8080}, "", false));
  EXPECT_FALSE(CheckExposure({"::", 8080}, "", false));
  EXPECT_FALSE(CheckExposure({"10.1.2.3", 8080}, "", false));
}

// Issue 17: 500 trickling and 500 idle connections never keep /health from answering.
TEST_F(ControlApiTest, SlowAndIdleClientsNeverStallHealth) {
  ControlApiOptions o;
  o.http.header_timeout = seconds(2);
  o.http.idle_timeout = seconds(3);
  o.http.max_connections = 2000;
  o.http.max_connections_per_peer = 2000;
  Start(std::move(o));
  fakes::SlowAttackOptions a;
  a.header_timeout = seconds(2);
  a.idle_timeout = seconds(3);
  const auto report = fakes::RunSlowClientAttack(
      server_->port(),
      [&] {
        auto r = Fetch(server_->port(), "GET", "/health", {}, "", seconds(10));
        return r && r->status == 200 && json::parse(r->body).value("node_id", "") == "n1";
      },
      a);
  std::printf("control API %s\n", report.Describe().c_str());
  EXPECT_EQ(report.connected, 1000);
  EXPECT_EQ(report.slow_closed, 500);
  EXPECT_EQ(report.idle_closed, 500);
  EXPECT_EQ(report.early_closes, 0);
  EXPECT_GT(report.probes, 0);
  EXPECT_EQ(report.probes_answered, report.probes);
}

}  // namespace
}  // namespace volley::cli
