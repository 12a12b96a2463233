#include "volley/output/metrics_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

#include "fakes/raw_http.h"

namespace volley::output {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::unique_ptr<MetricsServer> StartOrDie(MetricsServer::RenderFn render) {
  auto server = MetricsServer::Start("127.0.0.1:0", std::move(render));
  EXPECT_TRUE(server.has_value()) << server.error().message;
  return server ? std::move(*server) : nullptr;
}

fakes::Reply Get(const MetricsServer& server, const std::string& path) {
  fakes::LoopbackClient client(server.port());
  return client.Get(path.c_str());
}

TEST(MetricsServer, ServesTheRenderedTextOnMetrics) {
  std::atomic<int> calls{0};
  auto server = StartOrDie([&] { return "volley_up " + std::to_string(++calls) + "\n"; });
  ASSERT_NE(server, nullptr);
  EXPECT_NE(server->port(), 0);
  EXPECT_EQ(server->host(), "127.0.0.1");
  EXPECT_EQ(server->scrapes(), 0u);

  auto r = Get(*server, "/metrics");  // right after Start: the listener is ready
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "volley_up 1\n");
  EXPECT_EQ(r->Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_EQ(server->scrapes(), 1u);

  r = Get(*server, "/metrics");  // rendered afresh for every scrape
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "volley_up 2\n");
  EXPECT_EQ(server->scrapes(), 2u);
}

TEST(MetricsServer, RendersOnItsOwnThread) {
  std::thread::id render_thread;
  auto server = StartOrDie([&] {
    render_thread = std::this_thread::get_id();
    return std::string();
  });
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(Get(*server, "/metrics"));
  EXPECT_NE(render_thread, std::thread::id());
  EXPECT_NE(render_thread, std::this_thread::get_id());
}

TEST(MetricsServer, OtherPathsAre404AndNotScrapes) {
  auto server = StartOrDie([] { return "x 1\n"; });
  ASSERT_NE(server, nullptr);
  for (const char* path : {"/", "/metrics/", "/metricsx", "/favicon.ico"}) {
    auto r = Get(*server, path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
  }
  fakes::LoopbackClient client(server->port());
  auto post = client.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 404);
  EXPECT_EQ(server->scrapes(), 0u);
}

TEST(MetricsServer, RequestBodiesAreBounded) {
  auto server = StartOrDie([] { return "x 1\n"; });
  ASSERT_NE(server, nullptr);
  fakes::LoopbackClient client(server->port());
  auto r = client.Post("/metrics", std::string(64 * 1024, 'x'), "text/plain");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST(MetricsServer, RenderThatThrowsGives500) {
  auto server = StartOrDie([]() -> std::string { throw std::runtime_error("boom"); });
  ASSERT_NE(server, nullptr);
  auto r = Get(*server, "/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_NE(r->body.find("boom"), std::string::npos);
}

TEST(MetricsServer, WaitForScrapeAfterReturnsWhenAScrapeComes) {
  auto server = StartOrDie([] { return "x 1\n"; });
  ASSERT_NE(server, nullptr);
  // No scrape yet: a zero timeout answers false at once.
  EXPECT_FALSE(server->WaitForScrapeAfter(0, Nanos(0)));

  const uint64_t n = server->scrapes();
  std::thread client([&] { EXPECT_TRUE(Get(*server, "/metrics")); });
  EXPECT_TRUE(server->WaitForScrapeAfter(n, seconds(30)));
  client.join();
  EXPECT_EQ(server->scrapes(), n + 1);
  // Already past n: true at once; not yet past n + 1: false after the timeout.
  EXPECT_TRUE(server->WaitForScrapeAfter(n, Nanos(0)));
  EXPECT_FALSE(server->WaitForScrapeAfter(n + 1, milliseconds(1)));
}

TEST(MetricsServer, StopIsIdempotentAndWakesWaiters) {
  auto server = StartOrDie([] { return "x 1\n"; });
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(Get(*server, "/metrics"));
  std::atomic<bool> woke{false};
  std::thread waiter([&] {
    // Would wait an hour; Stop() must end it with false.
    EXPECT_FALSE(server->WaitForScrapeAfter(1, std::chrono::hours(1)));
    woke = true;
  });
  server->Stop();
  waiter.join();
  EXPECT_TRUE(woke);
  server->Stop();
  EXPECT_EQ(server->scrapes(), 1u);
  EXPECT_FALSE(Get(*server, "/metrics")) << "still answering after Stop()";
  EXPECT_FALSE(server->WaitForScrapeAfter(1, std::chrono::hours(1)));  // at once
}

TEST(MetricsServer, StopRightAfterStartDoesNotHang) {
  for (int i = 0; i < 20; ++i) {
    auto server = StartOrDie([] { return std::string(); });
    ASSERT_NE(server, nullptr);
    server->Stop();
  }
}

TEST(MetricsServer, PortInUseIsAnErrorNamingTheAddressAndTheFix) {
  auto first = StartOrDie([] { return "a 1\n"; });
  ASSERT_NE(first, nullptr);
  const std::string addr = "127.0.0.1:" + std::to_string(first->port());
  auto second = MetricsServer::Start(addr, [] { return "b 1\n"; });
  ASSERT_FALSE(second.has_value()) << "two servers share " << addr;
  EXPECT_EQ(second.error().code, ErrorCode::kIo);
  EXPECT_NE(second.error().message.find(addr), std::string::npos) << second.error().message;
  EXPECT_NE(second.error().message.find("address in use"), std::string::npos)
      << second.error().message;
  EXPECT_NE(second.error().message.find("--metrics-addr"), std::string::npos)
      << second.error().message;
  // The first server still answers alone.
  auto r = Get(*first, "/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "a 1\n");
}

TEST(MetricsServer, BadAddressesAreRejected) {
  for (const char* bad : {"nonsense", "127.0.0.1:99999", "host.example:9090"}) {
    auto r = MetricsServer::Start(bad, [] { return std::string(); });
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(r.error().message.find("--metrics-addr"), std::string::npos) << r.error().message;
  }
  auto r = MetricsServer::Start("192.0.2.1:0", [] { return std::string(); });  // TEST-NET-1
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_NE(r.error().message.find("not an address of this host"), std::string::npos)
      << r.error().message;
}

// Issue 17: 500 connections trickling a header and 500 idle ones never delay a scrape;
// each is closed at its deadline (shortened by the test).
TEST(MetricsServer, SlowAndIdleClientsNeverStallAScrape) {
  http::ServerOptions o = MetricsServer::DefaultHttpOptions();
  o.header_timeout = seconds(2);
  o.idle_timeout = seconds(3);
  o.max_connections = 2000;
  o.max_connections_per_peer = 2000;
  auto started = MetricsServer::Start(
      "127.0.0.1:0", [] { return "volley_up 1\n"; }, o);
  ASSERT_TRUE(started) << started.error().message;
  auto& server = *started;
  fakes::SlowAttackOptions a;
  a.header_timeout = seconds(2);
  a.idle_timeout = seconds(3);
  const auto report = fakes::RunSlowClientAttack(
      server->port(),
      [&] {
        auto r = fakes::Fetch(server->port(), "GET", "/metrics", {}, "", seconds(10));
        return r && r->status == 200 && r->body == "volley_up 1\n";
      },
      a);
  std::printf("metrics %s\n", report.Describe().c_str());
  EXPECT_EQ(report.connected, 1000);
  EXPECT_EQ(report.slow_closed, 500);
  EXPECT_EQ(report.idle_closed, 500);
  EXPECT_EQ(report.early_closes, 0);
  EXPECT_GT(report.probes, 0);
  EXPECT_EQ(report.probes_answered, report.probes);
  EXPECT_EQ(server->scrapes(), static_cast<uint64_t>(report.probes));
}

TEST(MetricsServer, ScrapeAnswersCloseAndLeakNoDescriptors) {
  auto server = StartOrDie([] { return "x 1\n"; });
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(fakes::Fetch(server->port(), "GET", "/metrics"));
  auto settled = [&] {  // the server's side of the connections closed too
    for (int i = 0; i < 2000000 && server->stats().open != 0; ++i) std::this_thread::yield();
    return server->stats().open == 0;
  };
  ASSERT_TRUE(settled());
  const int fds = fakes::OpenFdCount();
  for (int i = 0; i < 2000; ++i) {
    fakes::RawConnection c(server->port());
    ASSERT_TRUE(c.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = c.Read();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->Header("connection"), "close");
    ASSERT_TRUE(c.WaitClosed(seconds(20)));
  }
  ASSERT_TRUE(settled());
  EXPECT_EQ(fakes::OpenFdCount(), fds);
}

}  // namespace
}  // namespace volley::output
