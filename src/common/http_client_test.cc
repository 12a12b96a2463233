// HttpClient (libcurl) against HttpServer on 127.0.0.1: answers, connection reuse,
// deadlines, response limits, cancellation, and the proxy variables curl honours.
#include "volley/common/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include "volley/common/http_server.h"

namespace volley::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Router r;
    r.Handle("POST", "/echo", [](const Request& req, Response& res) {
      res.status = 201;
      res.body = req.body;
      res.headers.Add("Retry-After", "7");
      res.headers.Add("X-Auth", std::string(req.headers.Get("Authorization")));
    });
    r.Handle("GET", "/big",
             [](const Request&, Response& res) { res.body = std::string(5000, 'b'); });
    r.Handle("GET", "/hang", [this](const Request&, Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++hanging_;
      }
      cv_.notify_all();
      gate_.Wait();
      res.body = "late";
    });
    r.SetNotFound([this](const Request& req, Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      last_target_ = req.target;
      res.status = 404;
    });
    ServerOptions o;
    o.shutdown_grace = milliseconds(100);
    auto s = HttpServer::Start({"127.0.0.1", 0}, o, std::move(r));
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    gate_.Open();
    server_->Stop();
  }
  void WaitHanging() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, seconds(20), [&] { return hanging_ > 0; });
  }

  std::unique_ptr<HttpServer> server_;
  std::string base_;
  Gate gate_;
  std::mutex mu_;
  std::condition_variable cv_;
  int hanging_ = 0;
  std::string last_target_;
};

TEST_F(HttpClientTest, PostsAndReadsTheAnswerOnOneConnection) {
  HttpClient client;
  for (int i = 0; i < 3; ++i) {
    ClientRequest req;
    req.url = base_ + "/echo";
    req.body = "payload " + std::to_string(i);
    req.headers.Add("Authorization", "Bearer t");
    auto r = client.Send(req);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(r->body, "payload " + std::to_string(i));
    EXPECT_EQ(r->headers.Get("retry-after"), "7");
    EXPECT_EQ(r->headers.Get("X-Auth"), "Bearer t");
  }
  EXPECT_EQ(server_->stats().accepted, 1u);  // kept alive and reused
  ClientRequest fresh;
  fresh.url = base_ + "/echo";
  fresh.fresh_connection = true;
  ASSERT_TRUE(client.Send(fresh));
  EXPECT_EQ(server_->stats().accepted, 2u);
}

TEST_F(HttpClientTest, ResponseLimitFailsOrTruncates) {
  HttpClient client;
  ClientRequest req;
  req.method = "GET";
  req.url = base_ + "/big";
  req.max_response_bytes = 1000;
  auto r = client.Send(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kProtocol);
  EXPECT_NE(r.error().message.find("longer than 1000 bytes"), std::string::npos);
  req.truncate_response = true;
  r = client.Send(req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, std::string(1000, 'b'));
}

TEST_F(HttpClientTest, DeadlineIsKTimeout) {
  HttpClient client;
  ClientRequest req;
  req.method = "GET";
  req.url = base_ + "/hang";
  req.timeout = milliseconds(200);
  auto r = client.Send(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout) << r.error().message;
  EXPECT_NE(r.error().message.find(base_), std::string::npos) << r.error().message;
}

TEST_F(HttpClientTest, CancelEndsARunningSendAndLaterOnes) {
  HttpClient client;
  auto pending = std::async(std::launch::async, [&] {
    ClientRequest req;
    req.method = "GET";
    req.url = base_ + "/hang";
    req.timeout = seconds(60);
    return client.Send(req);
  });
  WaitHanging();
  client.Cancel();
  auto r = pending.get();  // well before the 60 s deadline
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_NE(r.error().message.find("cancelled"), std::string::npos);
  ClientRequest again;
  again.url = base_ + "/echo";
  EXPECT_FALSE(client.Send(again));
}

TEST_F(HttpClientTest, RefusedConnectionIsKIo) {
  // A port held by a socket that is bound but never listens: connects to it are refused,
  // and no other process can take the port meanwhile (as it could a closed server's).
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  HttpClient client;
  ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/echo";
  auto r = client.Send(req);
  close(fd);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kIo) << r.error().message;
}

TEST_F(HttpClientTest, HonoursTheProxyVariables) {
  // The server stands in for a proxy: curl sends it the absolute URL.
  ::setenv("http_proxy", base_.c_str(), 1);
  {
    HttpClient client;
    ClientRequest req;
    req.method = "GET";
    req.url = "http://ingest.example.invalid:7000/v2/metrics/r";
    auto r = client.Send(req);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 404);
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(last_target_, "http://ingest.example.invalid:7000/v2/metrics/r");
  }
  ::setenv("no_proxy", "127.0.0.1", 1);
  {
    HttpClient client;
    ClientRequest req;
    req.url = base_ + "/echo";
    req.body = "direct";
    auto r = client.Send(req);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, "direct");
  }
  ::unsetenv("http_proxy");
  ::unsetenv("no_proxy");
}

}  // namespace
}  // namespace volley::http
