#include "volley/target/target_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "fakes/test_client.h"

namespace volley::target {
namespace {

using target::testing::Get;
using target::testing::MustConnect;
using target::testing::StartServer;
using target::testing::StreamEnd;
using target::testing::TestClient;

// Fetches GET /__volley/stats on a fresh connection.
nlohmann::json FetchStats(const TargetServer& server) {
  auto client = MustConnect(server);
  if (!client || !client->Send(Get("/__volley/stats"))) return {};
  auto r = client->Read();
  if (!r || r->status != 200) return {};
  return nlohmann::json::parse(r->body);
}

TEST(TargetServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(*server);
  ASSERT_NE(client, nullptr);
  size_t bytes = 0;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(client->Send(Get("/item/" + std::to_string(i))));
    auto r = client->Read();
    ASSERT_TRUE(r.has_value()) << "request " << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "Hello, world\n");
    EXPECT_EQ(r->Header("content-length"), "13");
    EXPECT_FALSE(r->Has("connection"));
    bytes += r->raw_size;
  }
  const TargetStats s = server->Stats();
  EXPECT_EQ(s.requests, 5u);
  EXPECT_EQ(s.responses, 5u);
  EXPECT_EQ(s.connections, 1u);
  EXPECT_EQ(s.bytes_sent, bytes);
  EXPECT_EQ(s.by_status, (std::map<int, uint64_t>{{200, 5}}));
}

TEST(TargetServerTest, PipelinedRequestsAreAnsweredInOrder) {
  TargetOptions o;
  o.status_mix = {{200, 1}, {503, 1}};  // the rotation alternates 200, 503, 200, ...
  auto server = StartServer(o);
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(*server);
  ASSERT_NE(client, nullptr);
  std::string batch;
  for (int i = 0; i < 10; ++i) {
    batch += (i == 3 || i == 6) ? "HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n" : Get("/p");
  }
  ASSERT_TRUE(client->Send(batch));
  for (int i = 0; i < 10; ++i) {
    const bool head = i == 3 || i == 6;
    auto r = client->Read(head);
    ASSERT_TRUE(r.has_value()) << "response " << i;
    EXPECT_EQ(r->status, i % 2 == 0 ? 200 : 503) << "response " << i;
    EXPECT_EQ(r->Header("content-length"), "13");
    EXPECT_EQ(r->body, head ? "" : "Hello, world\n") << "response " << i;
  }
  EXPECT_EQ(client->buffered(), "");  // HEAD answers carried no body
  ASSERT_TRUE(client->Send(Get()));
  auto r = client->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(server->Stats().requests, 11u);
}

TEST(TargetServerTest, ConnectionCloseIsHonoured) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(*server);
  ASSERT_NE(client, nullptr);
  // The second request comes after "Connection: close" and must not be answered.
  ASSERT_TRUE(client->Send(Get("/", "Connection: close\r\n") + Get("/ignored")));
  auto r = client->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("connection"), "close");
  std::string rest;
  EXPECT_EQ(client->ReadToEnd(&rest), StreamEnd::kEof);
  EXPECT_EQ(rest, "");
  EXPECT_EQ(server->Stats().requests, 1u);
}

TEST(TargetServerTest, Http10ClosesByDefaultAndKeepsAliveOnRequest) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto plain = MustConnect(*server);
  ASSERT_NE(plain, nullptr);
  ASSERT_TRUE(plain->Send("GET / HTTP/1.0\r\n\r\n"));
  auto r = plain->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_EQ(plain->ReadToEnd(), StreamEnd::kEof);

  auto kept = MustConnect(*server);
  ASSERT_NE(kept, nullptr);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(kept->Send("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    auto k = kept->Read();
    ASSERT_TRUE(k.has_value()) << "request " << i;
    EXPECT_EQ(k->Header("connection"), "keep-alive");
    EXPECT_EQ(k->body, "Hello, world\n");
  }
  EXPECT_EQ(server->Stats().connections, 2u);
}

TEST(TargetServerTest, HalfClosedClientStillGetsItsAnswers) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(*server);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send(Get() + Get()));
  ASSERT_EQ(shutdown(client->fd(), SHUT_WR), 0);
  for (int i = 0; i < 2; ++i) {
    auto r = client->Read();
    ASSERT_TRUE(r.has_value()) << "response " << i;
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(client->ReadToEnd(), StreamEnd::kEof);
}

class BodySizeTest : public ::testing::TestWithParam<size_t> {};

TEST_P(BodySizeTest, BodyHasExactlyTheConfiguredSize) {
  TargetOptions o;
  o.body_size = GetParam();
  auto server = StartServer(o);
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(*server);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send(Get() + "HEAD / HTTP/1.1\r\n\r\n" + Get()));
  size_t bytes = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = client->Read(i == 1);
    ASSERT_TRUE(r.has_value()) << "response " << i;
    EXPECT_EQ(r->Header("content-length"), std::to_string(GetParam()));
    EXPECT_EQ(r->body.size(), i == 1 ? 0 : GetParam());
    if (i != 1 && GetParam() >= 13) {
      EXPECT_EQ(r->body.substr(0, 13), "Hello, world\n");
    }
    bytes += r->raw_size;
  }
  const TargetStats s = server->Stats();
  EXPECT_EQ(s.responses, 3u);
  EXPECT_EQ(s.bytes_sent, bytes);
}

// 70000 and 1 MiB take the large-body path (one shared body buffer, two-part writes).
INSTANTIATE_TEST_SUITE_P(Sizes, BodySizeTest,
                         ::testing::Values(size_t{0}, size_t{1}, size_t{13}, size_t{1000},
                                           size_t{70000}, size_t{1} << 20));

TEST(TargetServerTest, StatusMixIsExactInEveryHundredRequests) {
  TargetOptions o;
  o.status_mix = {{200, 90}, {503, 10}};
  auto server = StartServer(o);
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(*server);
  ASSERT_NE(client, nullptr);
  std::map<int, int> total;
  for (int block = 0; block < 10; ++block) {
    std::string batch;
    for (int i = 0; i < 100; ++i) batch += Get();
    ASSERT_TRUE(client->Send(batch));
    std::map<int, int> counts;
    for (int i = 0; i < 100; ++i) {
      auto r = client->Read();
      ASSERT_TRUE(r.has_value()) << "block " << block << " response " << i;
      ++counts[r->status];
      ++total[r->status];
    }
    EXPECT_EQ(counts, (std::map<int, int>{{200, 90}, {503, 10}})) << "block " << block;
  }
  EXPECT_EQ(total, (std::map<int, int>{{200, 900}, {503, 100}}));
  EXPECT_EQ(server->Stats().by_status, (std::map<int, uint64_t>{{200, 900}, {503, 100}}));
}

TEST(TargetServerTest, StatsJsonEqualsWhatTheClientsDid) {
  TargetOptions o;
  o.threads = 2;
  o.status_mix = {{200, 3}, {404, 1}};
  auto server = StartServer(o);
  ASSERT_NE(server, nullptr);
  size_t bytes = 0;
  std::map<std::string, uint64_t> by_status;
  for (int c = 0; c < 3; ++c) {
    auto client = MustConnect(*server);
    ASSERT_NE(client, nullptr);
    for (int i = 0; i < 7; ++i) {
      ASSERT_TRUE(client->Send(Get()));
      auto r = client->Read();
      ASSERT_TRUE(r.has_value());
      bytes += r->raw_size;
      ++by_status[std::to_string(r->status)];
    }
  }
  for (int poll = 0; poll < 2; ++poll) {  // polling the stats does not change them
    const nlohmann::json j = FetchStats(*server);
    ASSERT_TRUE(j.is_object()) << j.dump();
    EXPECT_EQ(j["requests"], 21);
    EXPECT_EQ(j["responses"], 21);
    EXPECT_EQ(j["connections"], 3);
    EXPECT_EQ(j["bytes_sent"], bytes);
    const auto got = j["by_status"].get<std::map<std::string, uint64_t>>();
    EXPECT_EQ(got, by_status);
    EXPECT_GT(j["uptime_s"].get<double>(), 0.0);
  }
  EXPECT_EQ(server->Stats().requests, 21u);
}

TEST(TargetServerTest, ResetStartsTheCountersAgain) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(*server);
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(client->Send(Get()));
    ASSERT_TRUE(client->Read().has_value());
  }
  ASSERT_EQ(server->Stats().requests, 4u);
  ASSERT_TRUE(client->Send("POST /__volley/reset HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
  auto reset = client->Read();
  ASSERT_TRUE(reset.has_value());
  EXPECT_EQ(reset->status, 200);
  EXPECT_EQ(reset->body, "{\"reset\":true}\n");
  TargetStats s = server->Stats();
  EXPECT_EQ(s.requests, 0u);
  EXPECT_EQ(s.responses, 0u);
  EXPECT_EQ(s.bytes_sent, 0u);
  EXPECT_EQ(s.connections, 0u);
  EXPECT_TRUE(s.by_status.empty());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client->Send(Get()));
    ASSERT_TRUE(client->Read().has_value());
  }
  s = server->Stats();
  EXPECT_EQ(s.requests, 3u);
  EXPECT_EQ(s.by_status, (std::map<int, uint64_t>{{200, 3}}));
}

TEST(TargetServerTest, ControlEndpointsRejectWrongPathsAndMethods) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(*server);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send(Get("/__volley/nope") + "POST /__volley/stats HTTP/1.1\r\n\r\n" +
                           Get("/__volley/reset") + Get("/__volley/stats?pretty=1")));
  auto a = client->Read();
  auto b = client->Read();
  auto c = client->Read();
  auto d = client->Read();
  ASSERT_TRUE(a && b && c && d);
  EXPECT_EQ(a->status, 404);
  EXPECT_EQ(b->status, 405);
  EXPECT_EQ(b->Header("allow"), "GET, HEAD");
  EXPECT_EQ(c->status, 405);
  EXPECT_EQ(c->Header("allow"), "POST");
  EXPECT_EQ(d->status, 200);
  EXPECT_EQ(d->Header("content-type"), "application/json");
  EXPECT_EQ(server->Stats().requests, 0u);
  EXPECT_EQ(server->Stats().responses, 0u);
}

TEST(TargetServerTest, RequestBodiesAreReadAndSkipped) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(*server);
  ASSERT_NE(client, nullptr);
  const std::string chunked =
      "POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: yes\r\n\r\n";
  const std::string body(100000, 'b');
  const std::string sized = "POST /up HTTP/1.1\r\nContent-Length: 100000\r\n\r\n" + body;
  ASSERT_TRUE(client->Send(chunked + sized.substr(0, 50000)));
  ASSERT_TRUE(client->Send(sized.substr(50000) + Get()));
  for (int i = 0; i < 3; ++i) {
    auto r = client->Read();
    ASSERT_TRUE(r.has_value()) << "response " << i;
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(server->Stats().requests, 3u);
}

TEST(TargetServerTest, ExpectContinueGetsAnInterimResponse) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(*server);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send("POST / HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto interim = client->Read();
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client->Send("hello"));
  auto r = client->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  const TargetStats s = server->Stats();
  EXPECT_EQ(s.responses, 1u);  // the 100 is not counted
  EXPECT_EQ(s.bytes_sent, r->raw_size);
}

TEST(TargetServerTest, CountersOfAllThreadsAreSummed) {
  TargetOptions o;
  o.threads = 2;
  auto server = StartServer(o);
  ASSERT_NE(server, nullptr);
  ASSERT_EQ(server->threads(), 2);
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&] {
      auto client = TestClient::Connect(server->port());
      if (!client) return;
      for (int i = 0; i < 25; ++i) {
        if (!client->Send(Get())) return;
        auto r = client->Read();
        if (!r || r->status != 200) return;
        ok.fetch_add(1);
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 200);
  const TargetStats s = server->Stats();
  EXPECT_EQ(s.requests, 200u);
  EXPECT_EQ(s.responses, 200u);
  EXPECT_EQ(s.connections, 8u);
}

TEST(TargetServerTest, StopIsIdempotentAndReleasesThePort) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(*server);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send(Get()));
  ASSERT_TRUE(client->Read().has_value());
  server->Stop();
  server->Stop();
  EXPECT_EQ(client->ReadToEnd(), StreamEnd::kEof);  // open connections were closed
  EXPECT_EQ(TestClient::Connect(server->port()), nullptr);
  EXPECT_EQ(errno, ECONNREFUSED);
  EXPECT_EQ(server->Stats().requests, 1u);  // still readable after Stop
}

TEST(TargetServerTest, StartFailsOnAPortInUseAndNamesIt) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string where = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  TargetOptions o;
  o.listen = where;
  o.threads = 2;
  auto server = TargetServer::Start(o);
  close(fd);
  ASSERT_FALSE(server.has_value());
  EXPECT_EQ(server.error().code, ErrorCode::kIo);
  EXPECT_NE(server.error().message.find(where), std::string::npos) << server.error().message;
}

TEST(TargetServerTest, StartRejectsBadOptions) {
  TargetOptions o;
  o.listen = "127.0.0.1:0";
  o.stall_duration = Nanos(5'000'000'000);
  o.stall_period = Nanos(1'000'000'000);
  auto server = TargetServer::Start(o);
  ASSERT_FALSE(server.has_value());
  EXPECT_EQ(server.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(server.error().message.find("stall"), std::string::npos) << server.error().message;
}

}  // namespace
}  // namespace volley::target
