// HttpServer over real sockets on 127.0.0.1: routing, bodies (Content-Length, chunked,
// over the limit), keep-alive, deadlines, connection limits, blocking handlers, streaming
// and graceful shutdown. Waits are on conditions with generous deadlines, never on sleeps.
#include "volley/common/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "fakes/raw_http.h"

namespace volley::http {
namespace {

using fakes::Fetch;
using fakes::RawConnection;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto kLong = seconds(20);  // what "soon" means on a loaded 2-core machine

// A latch a handler waits on until the test opens it.
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

std::unique_ptr<HttpServer> StartOrDie(Router router, ServerOptions options = {}) {
  auto s = HttpServer::Start({"127.0.0.1", 0}, std::move(options), std::move(router));
  EXPECT_TRUE(s) << s.error().message;
  return s ? std::move(*s) : nullptr;
}

Router EchoRouter() {
  Router r;
  r.Handle("GET", "/hello", [](const Request& req, Response& res) {
    res.body = "hello " + req.peer + " " + req.Query("name");
  });
  r.Handle(
      "POST", "/echo",
      [](const Request& req, Response& res) {
        res.content_type = "application/octet-stream";
        res.body = req.body;
        res.headers.Add("X-Length", std::to_string(req.body.size()));
      },
      RouteOptions{.max_body = 1000});
  r.Handle("GET", "/runs/{}/summary",
           [](const Request& req, Response& res) { res.body = "run=" + req.params.at(0); });
  return r;
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds limit = kLong) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::yield();
  }
  return cond();
}

TEST(HttpServer, RoutesParamsQueryHeadAnd404) {
  auto s = StartOrDie(EchoRouter());
  ASSERT_NE(s, nullptr);
  auto r = Fetch(s->port(), "GET", "/hello?name=a%20b+c");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello 127.0.0.1 a b c");
  r = Fetch(s->port(), "GET", "/runs/r-1/summary");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "run=r-1");
  r = Fetch(s->port(), "HEAD", "/runs/r-1/summary");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-length"), "7");
  EXPECT_EQ(r->body, "");
  for (const char* path : {"/runs//summary", "/hello/", "/nope", "/runs/a/summary/x"}) {
    r = Fetch(s->port(), "GET", path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_NE(r->body.find("no such endpoint: GET"), std::string::npos) << r->body;
  }
  r = Fetch(s->port(), "POST", "/hello", {}, "x");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST(HttpServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto s = StartOrDie(EchoRouter());
  ASSERT_NE(s, nullptr);
  RawConnection c(s->port());
  ASSERT_TRUE(c.ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Send("GET /hello?name=" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = c.Read();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->body, "hello 127.0.0.1 " + std::to_string(i));
    EXPECT_EQ(r->Header("connection"), "");
  }
  // Two pipelined requests in one write.
  ASSERT_TRUE(
      c.Send("GET /hello?name=p HTTP/1.1\r\nHost: x\r\n\r\n"
             "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
  auto a = c.Read();
  auto b = c.Read();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->body, "hello 127.0.0.1 p");
  EXPECT_EQ(b->body, "abc");
  EXPECT_EQ(s->stats().accepted, 1u);
  EXPECT_EQ(s->stats().requests, 5u);
}

TEST(HttpServer, ChunkedAndContentLengthBodies) {
  auto s = StartOrDie(EchoRouter());
  ASSERT_NE(s, nullptr);
  RawConnection c(s->port());
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello world");
  EXPECT_EQ(r->Header("x-length"), "11");
  // Expect: 100-continue gets its interim answer before the body is sent.
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
             "Expect: 100-continue\r\n\r\n"));
  auto cont = c.Read();
  ASSERT_TRUE(cont);
  EXPECT_EQ(cont->status, 100);
  ASSERT_TRUE(c.Send("ok"));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "ok");
}

TEST(HttpServer, BodyOverTheLimitIs413BeforeItIsRead) {
  auto s = StartOrDie(EchoRouter());
  ASSERT_NE(s, nullptr);
  // Only the header is sent: the answer comes without the server waiting for the body.
  RawConnection c(s->port());
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("over the limit of 1000 bytes"), std::string::npos) << r->body;
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(c.WaitClosed(kLong));
  // Chunked: refused as soon as the chunks pass the limit, while more would follow.
  RawConnection d(s->port());
  ASSERT_TRUE(
      d.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "400\r\n" +
             std::string(1024, 'x') + "\r\n"));
  r = d.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  // The server default applies to routes without their own limit (and to 404s).
  ServerOptions o;
  o.max_body_bytes = 10;
  auto small = StartOrDie(EchoRouter(), o);
  ASSERT_NE(small, nullptr);
  r = Fetch(small->port(), "POST", "/nowhere", {}, std::string(11, 'x'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

TEST(HttpServer, HeaderOverTheLimitIs431AndGarbageIs400) {
  ServerOptions o;
  o.max_header_bytes = 1024;
  auto s = StartOrDie(EchoRouter(), o);
  ASSERT_NE(s, nullptr);
  auto r = Fetch(s->port(), "GET", "/hello", {"X-Big: " + std::string(2000, 'b')});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  RawConnection c(s->port());
  ASSERT_TRUE(c.Send("NOT HTTP AT ALL\r\n\r\n"));
  r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(c.WaitClosed(kLong));
}

TEST(HttpServer, IdleAndHeaderDeadlinesCloseConnections) {
  ServerOptions o;
  o.idle_timeout = milliseconds(300);
  o.header_timeout = milliseconds(300);
  auto s = StartOrDie(EchoRouter(), o);
  ASSERT_NE(s, nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  RawConnection idle(s->port());
  RawConnection partial(s->port());
  ASSERT_TRUE(partial.Send("GET /hello HTTP/1.1\r\nHo"));
  EXPECT_TRUE(idle.WaitClosed(kLong));
  EXPECT_TRUE(partial.WaitClosed(kLong));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(300));
  EXPECT_TRUE(WaitFor([&] { return s->stats().open == 0; }));
  EXPECT_EQ(s->stats().idle_timeouts, 1u);
  EXPECT_EQ(s->stats().header_timeouts, 1u);
}

TEST(HttpServer, ConnectionLimitsAnswer503) {
  ServerOptions o;
  o.max_connections = 3;
  auto s = StartOrDie(EchoRouter(), o);
  ASSERT_NE(s, nullptr);
  std::vector<RawConnection> held;
  for (int i = 0; i < 3; ++i) held.emplace_back(s->port());
  ASSERT_TRUE(WaitFor([&] { return s->stats().open == 3; }));
  auto r = Fetch(s->port(), "GET", "/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("limit of 3 connections"), std::string::npos) << r->body;
  EXPECT_EQ(r->Header("retry-after"), "1");
  EXPECT_EQ(s->stats().refused, 1u);
  held.clear();
  ASSERT_TRUE(WaitFor([&] { return s->stats().open == 0; }));
  r = Fetch(s->port(), "GET", "/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  ServerOptions p;
  p.max_connections_per_peer = 2;
  auto per = StartOrDie(EchoRouter(), p);
  ASSERT_NE(per, nullptr);
  for (int i = 0; i < 2; ++i) held.emplace_back(per->port());
  ASSERT_TRUE(WaitFor([&] { return per->stats().open == 2; }));
  r = Fetch(per->port(), "GET", "/hello");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("limit per peer"), std::string::npos) << r->body;
}

TEST(HttpServer, BlockingHandlersDoNotStallOtherRequests) {
  Gate gate;
  std::atomic<int> entered{0};
  Router r = EchoRouter();
  r.Handle(
      "POST", "/config",
      [&](const Request&, Response& res) {
        ++entered;
        gate.Wait();
        res.body = "started";
      },
      RouteOptions{.blocking = true});
  ServerOptions o;
  o.blocking_threads = 2;
  auto s = StartOrDie(std::move(r), o);
  ASSERT_NE(s, nullptr);
  auto a = std::async(std::launch::async,
                      [&] { return Fetch(s->port(), "POST", "/config", {}, "x", seconds(60)); });
  auto b = std::async(std::launch::async,
                      [&] { return Fetch(s->port(), "POST", "/config", {}, "x", seconds(60)); });
  ASSERT_TRUE(WaitFor([&] { return entered.load() == 2; }));
  for (int i = 0; i < 5; ++i) {  // both blocking threads busy; ordinary requests go on
    auto q = Fetch(s->port(), "GET", "/hello");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->status, 200);
  }
  gate.Open();
  auto ra = a.get();
  auto rb = b.get();
  ASSERT_TRUE(ra && rb);
  EXPECT_EQ(ra->body, "started");
  EXPECT_EQ(rb->body, "started");
}

TEST(HttpServer, HandlerExceptionsAre500InTheServicesFormat) {
  Router r;
  r.Handle("GET", "/boom", [](const Request&, Response&) { throw std::runtime_error("kaput"); });
  r.SetErrorRenderer([](int status, std::string_view message, Response& res) {
    res.content_type = "application/json";
    res.body =
        "{\"code\":" + std::to_string(status) + ",\"message\":\"" + std::string(message) + "\"}";
  });
  auto s = StartOrDie(std::move(r));
  ASSERT_NE(s, nullptr);
  auto resp = Fetch(s->port(), "GET", "/boom");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 500);
  EXPECT_EQ(resp->body, "{\"code\":500,\"message\":\"the handler failed: kaput\"}");
  EXPECT_EQ(resp->Header("content-type"), "application/json");
}

TEST(HttpServer, HeaderCheckAnswersBeforeTheBody) {
  Router r = EchoRouter();
  r.SetHeaderCheck([](const Request& req, Response& res) {
    if (SecretsEqual(AuthorizationToken(req, false), "t0ken")) return false;
    res.status = 401;
    res.body = "no";
    return true;
  });
  auto s = StartOrDie(std::move(r));
  ASSERT_NE(s, nullptr);
  RawConnection c(s->port());
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n"));
  auto resp = c.Read();  // without the 500 body bytes
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 401);
  resp = Fetch(s->port(), "POST", "/echo", {"Authorization: Bearer t0ken"}, "abc");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "abc");
  resp = Fetch(s->port(), "POST", "/echo", {"Authorization: Bearer t0kem"}, "abc");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 401);
}

TEST(HttpServer, StreamsChunksUntilTheFunctionReturns) {
  Router r;
  r.Handle("GET", "/events", [](const Request&, Response& res) {
    res.content_type = "text/event-stream";
    res.stream = [](const StreamWriter& write) {
      for (int i = 0; i < 3; ++i) {
        if (!write("data: " + std::to_string(i) + "\n\n")) return;
      }
    };
  });
  auto s = StartOrDie(std::move(r));
  ASSERT_NE(s, nullptr);
  auto resp = Fetch(s->port(), "GET", "/events");
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->Header("content-type"), "text/event-stream");
  EXPECT_EQ(resp->body, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
}

TEST(HttpServer, StopEndsStreamsThatWouldRunForever) {
  Router r;
  std::atomic<int> written{0};
  r.Handle("GET", "/events", [&](const Request&, Response& res) {
    res.stream = [&](const StreamWriter& write) {
      while (write("data: x\n\n")) ++written;
    };
  });
  auto s = StartOrDie(std::move(r));
  ASSERT_NE(s, nullptr);
  RawConnection c(s->port());
  ASSERT_TRUE(c.Send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(WaitFor([&] { return written.load() > 0; }));
  s->Stop();  // returns: the writer returned false
  EXPECT_TRUE(c.WaitClosed(kLong));
}

TEST(HttpServer, StopFinishesInFlightRequestsAndClosesIdleOnes) {
  Gate gate;
  std::atomic<int> entered{0};
  Router r = EchoRouter();
  r.Handle("POST", "/slow", [&](const Request& req, Response& res) {
    ++entered;
    gate.Wait();
    res.body = "done " + req.body;
  });
  auto s = StartOrDie(std::move(r));
  ASSERT_NE(s, nullptr);
  RawConnection idle(s->port());
  RawConnection busy(s->port());
  ASSERT_TRUE(busy.Send("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nq"));
  ASSERT_TRUE(WaitFor([&] { return entered.load() == 1; }));
  std::thread stopper([&] { s->Stop(); });
  EXPECT_TRUE(idle.WaitClosed(kLong));  // at once, while the request is still running
  ASSERT_TRUE(WaitFor([&] {
    return Fetch(s->port(), "GET", "/hello", {}, "", milliseconds(500)) == std::nullopt;
  }));
  gate.Open();
  auto resp = busy.Read();
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->body, "done q");
  EXPECT_EQ(resp->Header("connection"), "close");
  stopper.join();
  EXPECT_EQ(s->stats().open, 0u);
}

TEST(HttpServer, StopClosesRequestsStillRunningAfterTheGrace) {
  Gate gate;
  std::atomic<int> entered{0};
  Router r;
  r.Handle("GET", "/stuck", [&](const Request&, Response& res) {
    ++entered;
    gate.Wait();
    res.body = "late";
  });
  ServerOptions o;
  o.shutdown_grace = milliseconds(100);
  auto s = StartOrDie(std::move(r), o);
  ASSERT_NE(s, nullptr);
  RawConnection c(s->port());
  ASSERT_TRUE(c.Send("GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(WaitFor([&] { return entered.load() == 1; }));
  std::thread stopper([&] { s->Stop(); });
  EXPECT_TRUE(c.WaitClosed(kLong));  // closed at the grace, no answer
  gate.Open();                       // Stop() waits for the handler to return
  stopper.join();
}

TEST(HttpServer, BindErrorsNameTheAddress) {
  auto first = StartOrDie(EchoRouter());
  ASSERT_NE(first, nullptr);
  int err = 0;
  ServerOptions o;
  o.name = "ingest";
  auto second = HttpServer::Start({"127.0.0.1", first->port()}, o, EchoRouter(), &err);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kIo);
  EXPECT_EQ(err, EADDRINUSE);
  EXPECT_NE(
      second.error().message.find("ingest: cannot bind 127.0.0.1:" + std::to_string(first->port())),
      std::string::npos)
      << second.error().message;
  auto bad = HttpServer::Start({"not-an-ip", 0}, o, EchoRouter());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
}

TEST(HttpServer, ManyConnectionsOpenedAndClosedLeakNoDescriptors) {
  auto s = StartOrDie(EchoRouter());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(Fetch(s->port(), "GET", "/hello"));  // warm up (thread pools, allocators)
  ASSERT_TRUE(WaitFor([&] { return s->stats().open == 0; }));
  const int fds_before = fakes::OpenFdCount();
  const long rss_before = fakes::RssKib();
  for (int i = 0; i < 10000; ++i) {
    RawConnection c(s->port());
    ASSERT_TRUE(c.ok()) << i;
    if (i % 2 == 0) {
      ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
  }
  ASSERT_TRUE(WaitFor([&] { return s->stats().open == 0; }));
  const int fds_after = fakes::OpenFdCount();
  const long rss_after = fakes::RssKib();
  std::printf("10k connect/close: fds %d -> %d, RSS %ld -> %ld KiB\n", fds_before, fds_after,
              rss_before, rss_after);
  EXPECT_EQ(fds_after, fds_before);
  EXPECT_EQ(s->stats().accepted, 10001u);
}

TEST(HttpServer, RefusalsLeakNoDescriptorsEither) {
  ServerOptions o;
  o.max_connections = 1;
  auto s = StartOrDie(EchoRouter(), o);
  ASSERT_NE(s, nullptr);
  RawConnection holder(s->port());
  ASSERT_TRUE(WaitFor([&] { return s->stats().open == 1; }));
  const int fds_before = fakes::OpenFdCount();
  for (int i = 0; i < 200; ++i) {
    auto r = Fetch(s->port(), "GET", "/hello");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 503);
  }
  EXPECT_TRUE(WaitFor([&] { return fakes::OpenFdCount() == fds_before; }));
}

TEST(HttpServerHelpers, LoopbackAndSecrets) {
  EXPECT_TRUE(IsLoopback("127.0.0.1"));
  EXPECT_TRUE(IsLoopback("127.1.2.3"));
  EXPECT_TRUE(IsLoopback("::1"));
  EXPECT_FALSE(IsLoopback("0.0.0.0"));
  EXPECT_FALSE(IsLoopback("::"));
  EXPECT_FALSE(IsLoopback("10.0.0.1"));
  EXPECT_TRUE(SecretsEqual("abc", "abc"));
  EXPECT_FALSE(SecretsEqual("abc", "abd"));
  EXPECT_FALSE(SecretsEqual("abc", "abcd"));
  Request req;
  req.headers.Add("authorization", "Token  k6tok ");
  EXPECT_EQ(AuthorizationToken(req, true), "k6tok");
  EXPECT_EQ(AuthorizationToken(req, false), "");
}

}  // namespace
}  // namespace volley::http

namespace volley::http {
namespace {

// Issue 17's slow-client check on the bare server: 500 connections trickling a header a
// byte a second and 500 idle ones; a normal request keeps being answered while they are
// connected, and each is closed at its deadline (configured short by the test).
TEST(HttpServer, SlowAndIdleClientsNeverStallANormalRequest) {
  ServerOptions o;
  o.header_timeout = seconds(2);
  o.idle_timeout = seconds(3);
  o.max_connections = 2000;
  o.max_connections_per_peer = 2000;
  auto s = StartOrDie(EchoRouter(), o);
  ASSERT_NE(s, nullptr);
  fakes::SlowAttackOptions a;
  a.header_timeout = seconds(2);
  a.idle_timeout = seconds(3);
  const auto report = fakes::RunSlowClientAttack(
      s->port(),
      [&] {
        auto r = Fetch(s->port(), "GET", "/hello?name=probe", {}, "", seconds(10));
        return r && r->status == 200 && r->body == "hello 127.0.0.1 probe";
      },
      a);
  std::printf("%s\n", report.Describe().c_str());
  EXPECT_EQ(report.connected, 1000);
  EXPECT_EQ(report.slow_closed, 500);
  EXPECT_EQ(report.idle_closed, 500);
  EXPECT_EQ(report.early_closes, 0);
  EXPECT_GT(report.probes, 0);
  EXPECT_EQ(report.probes_answered, report.probes);
  EXPECT_EQ(s->stats().header_timeouts, 500u);
  EXPECT_EQ(s->stats().idle_timeouts, 500u);
}

}  // namespace
}  // namespace volley::http
