// The engine against scripted misbehaving servers on loopback: every hostile answer must
// land in its error category (engine/measurements.h), exactly once per request, and the
// run must go on and end by its request budget.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>

#include "fakes/engine_run.h"
#include "fakes/scripted_server.h"
#include "volley/config/env.h"
#include "volley/engine/engine.h"
#include "volley/metrics/collector.h"
#include "volley/metrics/names.h"
#include "volley/output/summary.h"

namespace volley {
namespace {

using fakes::Behaviour;
using fakes::ResponseBytes;
using fakes::ScriptedServer;
namespace names = metrics::names;

using Outcome = fakes::EngineOutcome;

std::unique_ptr<ScriptedServer> StartServer(std::vector<Behaviour> script) {
  fakes::ScriptedServerOptions options;
  options.script = std::move(script);
  auto server = ScriptedServer::Start(std::move(options));
  EXPECT_TRUE(server.has_value()) << server.error().message;
  return server ? std::move(*server) : nullptr;
}

// 20 requests over 2 connections on one thread. The request timeout is generous so that a
// loaded machine never turns a slow answer into a timeout; the tests about timeouts
// shorten it. `duration` only bounds a broken run: every test must end by its budget.
config::TestPlan PlanFor(uint16_t port) {
  config::TestPlan plan;
  auto url = config::ParseUrl("http://127.0.0.1:" + std::to_string(port) + "/x");
  EXPECT_TRUE(url.has_value()) << url.error().message;
  if (url) plan.target = *url;
  plan.threads = 1;
  plan.workers = 2;
  plan.max_requests = 20;
  plan.request_timeout = std::chrono::seconds(2);
  plan.connect_timeout = std::chrono::seconds(1);
  plan.grace_period = std::chrono::seconds(1);
  plan.duration = std::chrono::seconds(6);
  return plan;
}

Outcome RunPlan(const config::TestPlan& plan) { return fakes::RunEngine(plan, true); }

// Every category of the summary, the named ones with their counts, all others zero.
std::map<std::string, uint64_t> Expected(std::map<std::string, uint64_t> nonzero) {
  std::map<std::string, uint64_t> all;
  for (const char* c : names::kCategories) all[c] = 0;
  for (const auto& [k, v] : nonzero) all[k] = v;
  return all;
}

// Runs `plan` against a server that answers every request with `b`, and checks that each
// of the `plan.max_requests` requests failed with `category` and reached the server.
Outcome ExpectEveryRequestFails(Behaviour b, const std::string& category,
                                uint64_t max_requests = 20,
                                Nanos request_timeout = std::chrono::seconds(2)) {
  auto server = StartServer({b});
  if (!server) return {};
  config::TestPlan plan = PlanFor(server->port());
  plan.max_requests = max_requests;
  plan.request_timeout = request_timeout;
  Outcome o = RunPlan(plan);
  server->Stop();
  const uint64_t n = plan.max_requests;
  EXPECT_EQ(o.summary.requests_total, n) << fakes::BehaviourName(b);
  EXPECT_EQ(o.summary.errors, Expected({{category, n}})) << fakes::BehaviourName(b);
  EXPECT_EQ(o.summary.errors_total, n);
  EXPECT_TRUE(o.summary.status_codes.empty()) << "no response completed";
  EXPECT_EQ(server->requests(), n) << "every request reached the server";
  EXPECT_EQ(o.summary.data_sent, n * o.request_size);
  EXPECT_EQ(o.info.abandoned, 0u);
  EXPECT_FALSE(o.info.interrupted);
  return o;
}

TEST(HostileTarget, GarbageInsteadOfAStatusLineIsOtherError) {
  ExpectEveryRequestFails(Behaviour::kGarbage, "other_error");
}

TEST(HostileTarget, HeaderBlockOver64KiBIsOtherError) {
  // The parser caps the header block at 64 KiB and the worker's read buffer is a fixed
  // 64 KiB: an 80 KiB block is rejected, never buffered whole.
  ExpectEveryRequestFails(Behaviour::kHugeHeaders, "other_error");
}

TEST(HostileTarget, BodyShorterThanContentLengthThenCloseIsNetworkError) {
  Outcome o = ExpectEveryRequestFails(Behaviour::kShortBody, "network_error");
  // The engine read up to the FIN, so every byte the server sent was counted.
  EXPECT_EQ(o.summary.data_received, 20u * ResponseBytes(Behaviour::kShortBody).size());
}

TEST(HostileTarget, ResetMidResponseIsNetworkError) {
  Outcome o = ExpectEveryRequestFails(Behaviour::kResetMidResponse, "network_error");
  // An RST may discard bytes still in flight: at most what was sent was counted.
  EXPECT_LE(o.summary.data_received, 20u * ResponseBytes(Behaviour::kResetMidResponse).size());
}

TEST(HostileTarget, ServerThatNeverAnswersIsTimeoutError) {
  // Two rounds of two requests, each given up after the 300 ms request timeout. (The
  // server holds each socket until the engine closes it.)
  Outcome o = ExpectEveryRequestFails(Behaviour::kNeverAnswer, "timeout_error", 4,
                                      std::chrono::milliseconds(300));
  EXPECT_EQ(o.summary.data_received, 0u);
}

TEST(HostileTarget, InvalidChunkSizeIsNetworkError) {
  ExpectEveryRequestFails(Behaviour::kBadChunk, "network_error");
}

TEST(HostileTarget, ConnectionCloseResponsesAreNotErrorsAndUseOneConnectionEach) {
  auto server = StartServer({Behaviour::kConnectionClose});
  ASSERT_TRUE(server);
  config::TestPlan plan = PlanFor(server->port());
  // One connection: with two, both may reconnect while one request of the budget is left,
  // and the closed model legitimately opens a connection the budget then leaves unused.
  plan.workers = 1;
  Outcome o = RunPlan(plan);
  server->Stop();  // counts every connection the engine completed, accepted or not
  EXPECT_EQ(o.summary.requests_total, 20u);
  EXPECT_EQ(o.summary.errors, Expected({}));
  EXPECT_EQ(o.summary.status_codes, (std::map<std::string, uint64_t>{{"200", 20}}));
  EXPECT_EQ(server->requests(), 20u);
  // One connection per request, and none opened after the budget was spent.
  EXPECT_EQ(server->connections(), 20u);
  EXPECT_EQ(o.summary.data_received, 20u * ResponseBytes(Behaviour::kConnectionClose).size());
  EXPECT_EQ(o.summary.data_sent, 20u * o.request_size);
  // Every response came on a fresh connection, so every one recorded its connect phase.
  const metrics::Histogram* connecting = o.snapshot.FindTrend(names::kConnecting);
  ASSERT_NE(connecting, nullptr);
  EXPECT_EQ(connecting->count(), 20u);
}

TEST(HostileTarget, ValidChunkedResponsesAreNotErrorsAndKeepTheConnections) {
  auto server = StartServer({Behaviour::kChunked});
  ASSERT_TRUE(server);
  Outcome o = RunPlan(PlanFor(server->port()));
  server->Stop();
  EXPECT_EQ(o.summary.requests_total, 20u);
  EXPECT_EQ(o.summary.errors, Expected({}));
  EXPECT_EQ(o.summary.status_codes, (std::map<std::string, uint64_t>{{"200", 20}}));
  EXPECT_EQ(server->requests(), 20u);
  EXPECT_EQ(server->connections(), 2u) << "keep-alive: one connection per worker";
  // Framing bytes included: data_received counts the wire, not the decoded body.
  EXPECT_EQ(o.summary.data_received, 20u * ResponseBytes(Behaviour::kChunked).size());
  EXPECT_EQ(o.summary.latency.count, 20u);
}

TEST(HostileTarget, EngineKeepsGoingWhenEveryOtherAnswerIsGarbage) {
  // Valid answers close their connection, so valid and garbage alternate per connection;
  // the script is keyed on the server's request count, so exactly half are garbage.
  auto server = StartServer({Behaviour::kConnectionClose, Behaviour::kGarbage});
  ASSERT_TRUE(server);
  Outcome o = RunPlan(PlanFor(server->port()));
  server->Stop();
  EXPECT_EQ(o.summary.requests_total, 20u);
  EXPECT_EQ(o.summary.errors, Expected({{"other_error", 10}}));
  EXPECT_EQ(o.summary.status_codes, (std::map<std::string, uint64_t>{{"200", 10}}));
  EXPECT_EQ(server->requests(), 20u);
}

TEST(HostileTarget, EveryBehaviourInTurnLandsInItsCategory) {
  // Three rounds of all eight behaviours, in one run: one bad answer must not disturb the
  // next request, whether on the same connection (after a chunked keep-alive response) or
  // on a new one.
  const std::vector<Behaviour> all = {Behaviour::kGarbage,         Behaviour::kHugeHeaders,
                                      Behaviour::kShortBody,       Behaviour::kResetMidResponse,
                                      Behaviour::kNeverAnswer,     Behaviour::kBadChunk,
                                      Behaviour::kConnectionClose, Behaviour::kChunked};
  auto server = StartServer(all);
  ASSERT_TRUE(server);
  config::TestPlan plan = PlanFor(server->port());
  plan.max_requests = 24;
  plan.request_timeout = std::chrono::seconds(1);  // for the three kNeverAnswer requests
  Outcome o = RunPlan(plan);
  server->Stop();
  EXPECT_EQ(o.summary.requests_total, 24u);
  EXPECT_EQ(server->requests(), 24u);
  EXPECT_EQ(o.summary.errors,
            Expected({{"other_error", 6}, {"network_error", 9}, {"timeout_error", 3}}));
  EXPECT_EQ(o.summary.status_codes, (std::map<std::string, uint64_t>{{"200", 6}}));
}

TEST(HostileTarget, RunEndsWhenTheTargetGoesAwayAfterTheLastResponse) {
  // The last of 4 responses closes its connection and the server stops listening. The
  // budget is spent, so the engine has nothing to reconnect for; were it to reconnect
  // anyway, every connect would be refused and the run would go on to its deadline.
  fakes::ScriptedServerOptions options;
  options.script = {Behaviour::kConnectionClose};
  options.stop_listening_after = 4;
  auto server = ScriptedServer::Start(options);
  ASSERT_TRUE(server.has_value()) << server.error().message;
  config::TestPlan plan = PlanFor((*server)->port());
  plan.workers = 1;
  plan.max_requests = 4;
  Outcome o = RunPlan(plan);  // checks that the run ended before its deadline
  (*server)->Stop();
  EXPECT_EQ(o.summary.requests_total, 4u);
  EXPECT_EQ(o.summary.errors, Expected({}));
  EXPECT_EQ(o.summary.status_codes, (std::map<std::string, uint64_t>{{"200", 4}}));
  EXPECT_EQ((*server)->connections(), 4u);
}

// A loopback port with no listener: bound, then closed.
uint16_t DeadPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(HostileTarget, ConnectionRefusedIsNetworkErrorAndTheBudgetEndsTheRun) {
  // In the closed model a user whose connect fails has spent an iteration (worker.cc,
  // OnFailure): 20 refused connects are the 20 requests of the budget, with a backoff of
  // 1, 2, 4, ... ms per connection in between (about 0.5 s for 10 per connection).
  Outcome o = RunPlan(PlanFor(DeadPort()));
  EXPECT_EQ(o.summary.requests_total, 20u);
  EXPECT_EQ(o.summary.errors, Expected({{"network_error", 20}}));
  EXPECT_EQ(o.summary.data_sent, 0u);
  // The report can say why, once per category.
  EXPECT_EQ(o.info.first_errors.at("network_error"), "connection refused (is the target up?)");
  EXPECT_EQ(o.info.first_errors.size(), 1u);
  // RunPlan also checks that the run ended by the budget, not by the 6 s duration: after
  // the 20th refused connect there is nothing left to connect for.
}

uint64_t Ok(const Outcome& o) {
  return o.summary.status_codes.count("200") ? o.summary.status_codes.at("200") : 0;
}

// An open-model plan of `n` GET arrivals at `rate`/s over `connections` connections. The
// grace period is long: a lost request would show as abandoned, never as a shorter run.
config::TestPlan OpenPlan(uint16_t port, uint64_t n, double rate, int connections) {
  config::TestPlan plan = PlanFor(port);
  plan.max_requests = 0;
  plan.workers = connections;
  plan.load.kind = config::LoadModelKind::kRps;
  plan.load.target = rate;
  plan.duration = std::chrono::milliseconds(static_cast<int64_t>(1000.0 * n / rate));
  plan.grace_period = std::chrono::seconds(30);
  return plan;
}

TEST(HostileTarget, OpenModelSurvivesIdleConnectionsClosedByTheServer) {
  // Every answer is keep-alive, and then the server closes the connection while it sits in
  // the open model's idle pool. The pool must drop it and reconnect; a closed connection
  // left in the pool would be handed the next arrival (and lose it until the grace
  // period). When the FIN arrives after an arrival was dispatched on the connection, the
  // request goes out again on a new one (a stale keep-alive connection): every one of the
  // 2000 arrivals succeeds, however the race falls on a loaded machine.
  auto server = StartServer({Behaviour::kKeepAliveThenClose});
  Outcome o = fakes::RunEngine(OpenPlan(server->port(), 2000, 2000, 4));
  server->Stop();
  EXPECT_EQ(o.summary.requests_total, 2000u);
  EXPECT_EQ(o.info.abandoned, 0u);
  EXPECT_EQ(o.summary.dropped_iterations, 0u);
  EXPECT_EQ(Ok(o), 2000u);
  EXPECT_EQ(o.summary.errors_total, 0u);
  EXPECT_EQ(server->requests(), 2000u) << "the server answered every request exactly once";
  EXPECT_LT(o.info.elapsed, std::chrono::seconds(25)) << "waited out the grace period";
}

TEST(HostileTarget, RequestsOnConnectionsResetAsTheyArriveAreSentAgainOnce) {
  // The server answers each connection's first request and resets the connection when the
  // next one begins to arrive, without reading it: every request sent on a reused
  // connection meets a stale connection, deterministically. Each is sent again once on a
  // new connection, which answers it; none is an error, and volley's retries are exactly
  // the server's resets.
  fakes::ScriptedServerOptions options;
  options.script = {Behaviour::kResetOnNextRequest};
  auto server = ScriptedServer::Start(options);
  ASSERT_TRUE(server.has_value()) << server.error().message;
  Outcome o = fakes::RunEngine(OpenPlan((*server)->port(), 2000, 2000, 4));
  (*server)->Stop();
  EXPECT_EQ(o.summary.requests_total, 2000u);
  EXPECT_EQ(Ok(o), 2000u);
  EXPECT_EQ(o.summary.errors_total, 0u);
  EXPECT_EQ(o.info.abandoned, 0u);
  EXPECT_EQ((*server)->requests(), 2000u);
  EXPECT_GT(o.summary.stale_retries, 0u);
  EXPECT_EQ(o.summary.stale_retries, (*server)->stale_resets());
}

TEST(HostileTarget, ServerClosingIdleConnectionsAtRandomMomentsCostsNoRequest) {
  // 10,000 open-model arrivals against a server that closes every keep-alive connection
  // at a random moment within 2 ms of answering (its idle timeout racing the next
  // request): no errors, and what the server processed is exactly what volley counts as
  // successes. The moments come from a fixed seed; how they fall against the arrivals
  // varies with the machine, which is why only exact totals are asserted.
  fakes::ScriptedServerOptions options;
  options.script = {Behaviour::kCloseIdleAtRandom};
  options.max_idle = std::chrono::microseconds(2000);
  options.seed = 20261203;
  auto server = ScriptedServer::Start(options);
  ASSERT_TRUE(server.has_value()) << server.error().message;
  Outcome o = fakes::RunEngine(OpenPlan((*server)->port(), 10000, 5000, 8));
  (*server)->Stop();
  EXPECT_EQ(o.summary.requests_total, 10000u);
  EXPECT_EQ(o.summary.errors_total, 0u);
  EXPECT_EQ(o.summary.dropped_iterations, 0u);
  EXPECT_EQ(o.info.abandoned, 0u);
  EXPECT_EQ(Ok(o), 10000u);
  EXPECT_EQ((*server)->requests(), Ok(o));
  std::printf("stale-connection retries: %llu of 10000 requests, %llu connections\n",
              static_cast<unsigned long long>(o.summary.stale_retries),
              static_cast<unsigned long long>((*server)->connections()));
}

TEST(HostileTarget, ProcessedThenResetOnAFreshConnectionIsAnError) {
  // The server reads each request (so it may have processed it) and resets the
  // connection. Every request went out on a fresh connection: nothing is sent again.
  Outcome o = ExpectEveryRequestFails(Behaviour::kResetAfterRead, "network_error", 10);
  EXPECT_EQ(o.summary.stale_retries, 0u);
}

TEST(HostileTarget, PostOnAReusedConnectionResetAfterItWasReadIsAnError) {
  // A POST went out whole on a reused connection, and the server reset it after reading
  // it: it cannot be known not to have been processed, so it is not sent again (Go's
  // rule). One connection, alternating answer and reset: 5 successes, 5 errors.
  auto server = StartServer({Behaviour::kChunked, Behaviour::kResetAfterRead});
  config::TestPlan plan = PlanFor(server->port());
  plan.workers = 1;
  plan.max_requests = 10;
  plan.request.method = "POST";
  plan.request.body = "{}";
  Outcome o = RunPlan(plan);
  server->Stop();
  EXPECT_EQ(o.summary.requests_total, 10u);
  EXPECT_EQ(Ok(o), 5u);
  EXPECT_EQ(o.summary.errors, Expected({{"network_error", 5}}));
  EXPECT_EQ(o.summary.stale_retries, 0u);
  EXPECT_EQ(server->requests(), 10u);
}

TEST(HostileTarget, GetOnAReusedConnectionResetAfterItWasReadIsSentAgain) {
  // The same server with GET, which is replayable: each reset request is sent once more,
  // on a new connection, where it is answered. 10 successes, 9 retries (every request but
  // the first went out on a reused connection), 19 requests read by the server.
  auto server = StartServer({Behaviour::kChunked, Behaviour::kResetAfterRead});
  config::TestPlan plan = PlanFor(server->port());
  plan.workers = 1;
  plan.max_requests = 10;
  Outcome o = RunPlan(plan);
  server->Stop();
  EXPECT_EQ(o.summary.requests_total, 10u);
  EXPECT_EQ(Ok(o), 10u);
  EXPECT_EQ(o.summary.errors_total, 0u);
  EXPECT_EQ(o.summary.stale_retries, 9u);
  EXPECT_EQ(server->requests(), 19u);
}

}  // namespace
}  // namespace volley
