// Latency and stall windows. Only lower bounds on time are asserted: a slow machine may make
// answers late, never early.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "fakes/test_client.h"
#include "volley/target/target_server.h"

namespace volley::target {
namespace {

using target::testing::Get;
using target::testing::StartServer;
using target::testing::TestClient;
using namespace std::chrono_literals;

TEST(TargetTimingTest, FixedLatencyDelaysEveryResponse) {
  TargetOptions o;
  o.latency_min = o.latency_max = Nanos(50ms);
  auto server = StartServer(o);
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 3; ++i) {
    const Nanos sent = MonotonicNow();
    ASSERT_TRUE(client->Send(Get()));
    auto r = client->Read();
    const Nanos received = MonotonicNow();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
    EXPECT_GE(received - sent, Nanos(50ms)) << "request " << i;
  }
}

TEST(TargetTimingTest, RandomLatencyIsAtLeastTheMinimum) {
  TargetOptions o;
  o.latency_min = Nanos(10ms);
  o.latency_max = Nanos(30ms);
  auto server = StartServer(o);
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 10; ++i) {
    const Nanos sent = MonotonicNow();
    ASSERT_TRUE(client->Send(Get()));
    auto r = client->Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_GE(MonotonicNow() - sent, Nanos(10ms)) << "request " << i;
  }
}

TEST(TargetTimingTest, PipelinedAnswersKeepTheirOrderUnderRandomLatency) {
  TargetOptions o;
  o.latency_min = Nanos(1ms);
  o.latency_max = Nanos(40ms);
  o.status_mix = {{200, 1}, {503, 1}};  // alternates, so the order is visible
  auto server = StartServer(o);
  ASSERT_NE(server, nullptr);
  auto client = TestClient::Connect(server->port());
  ASSERT_NE(client, nullptr);
  std::string batch;
  for (int i = 0; i < 20; ++i) batch += Get("/" + std::to_string(i));
  const Nanos sent = MonotonicNow();
  ASSERT_TRUE(client->Send(batch));
  for (int i = 0; i < 20; ++i) {
    auto r = client->Read();
    ASSERT_TRUE(r.has_value()) << "response " << i;
    EXPECT_EQ(r->status, i % 2 == 0 ? 200 : 503) << "response " << i;
  }
  EXPECT_GE(MonotonicNow() - sent, Nanos(1ms));
  EXPECT_EQ(server->Stats().responses, 20u);
}

TEST(TargetTimingTest, StallHoldsAnswersUntilTheWindowEndsButStillReadsRequests) {
  constexpr Nanos kStall(300ms);
  constexpr Nanos kPeriod(1s);
  TargetOptions o;
  o.stall_duration = kStall;
  o.stall_period = kPeriod;
  auto server = StartServer(o);
  ASSERT_NE(server, nullptr);
  const Nanos start = server->start_time();
  // Windows are [start + k*P, start + k*P + D). The first one opens at start; if this
  // thread was too slow to send inside it, wait for the next one.
  Nanos since = MonotonicNow() - start;
  if (since % kPeriod > kStall - Nanos(100ms)) {
    std::this_thread::sleep_for(kPeriod - since % kPeriod + Nanos(1ms));
  }
  auto client = TestClient::Connect(server->port());
  ASSERT_NE(client, nullptr);
  const Nanos sent = MonotonicNow();
  ASSERT_TRUE(client->Send(Get()));
  const int64_t k = (sent - start) / kPeriod;
  const Nanos window_end = start + k * kPeriod + kStall;
  ASSERT_LT(sent, window_end) << "the request was not sent inside a stall window";

  // The request is read during the window (requests == 1) but not answered.
  auto observer = TestClient::Connect(server->port());
  ASSERT_NE(observer, nullptr);
  nlohmann::json stats;
  for (int tries = 0; tries < 100; ++tries) {
    ASSERT_TRUE(observer->Send(Get("/__volley/stats")));
    auto r = observer->Read();
    ASSERT_TRUE(r.has_value());
    stats = nlohmann::json::parse(r->body);
    if (stats["requests"] == 1) break;
    std::this_thread::sleep_for(1ms);
  }
  const Nanos observed = MonotonicNow();
  EXPECT_EQ(stats["requests"], 1);
  if (observed < window_end) {
    EXPECT_EQ(stats["responses"], 0) << stats.dump();
  }

  auto r = client->Read();
  const Nanos received = MonotonicNow();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_GE(received, window_end) << "answered " << (window_end - received).count() / 1000
                                  << " us before the stall window ended";
  EXPECT_EQ(server->Stats().responses, 1u);
}

}  // namespace
}  // namespace volley::target
