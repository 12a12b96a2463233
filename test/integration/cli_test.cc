// Process-level tests of the volley binary: exit codes, environment and flags, signals, and
// the numbers a run reports against what a real `volley target` process (or a capturing
// server in this file) saw. Everything runs on 127.0.0.1; every child has a deadline.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "cli_harness.h"
#include "fakes/subprocess.h"
#include "volley/config/env.h"

namespace volley {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testing::Argv;
using testing::CleanEnv;
using testing::Env;
using testing::ExitStatus;
using testing::kQuick;
using testing::kRunDeadline;
using testing::Outcome;
using testing::ParseJson;
using testing::PollUntil;
using testing::ReadFile;
using testing::RunVolley;
using testing::SecondsSince;
using testing::StartTarget;
using testing::SteadyClock;
using testing::StopTarget;
using testing::Subprocess;
using testing::Target;
using testing::TempDir;

// ---- raw HTTP on 127.0.0.1 -------------------------------------------------------------

int ConnectLoopback(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The Content-Length of a header block (0 when absent).
size_t ContentLength(const std::string& head) {
  const std::string lower = Lower(head);
  const size_t at = lower.find("\r\ncontent-length:");
  return at == std::string::npos ? 0 : std::strtoul(lower.c_str() + at + 17, nullptr, 10);
}

// Takes one complete HTTP message (head and Content-Length body) off the front of `buf`.
bool TakeMessage(std::string& buf, std::string* message) {
  const size_t end = buf.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  const size_t total = end + 4 + ContentLength(buf.substr(0, end + 2));
  if (buf.size() < total) return false;
  *message = buf.substr(0, total);
  buf.erase(0, total);
  return true;
}

// GET `path` on a fresh connection; the response body, or nullopt.
std::optional<std::string> HttpGet(uint16_t port, const std::string& path) {
  const int fd = ConnectLoopback(port);
  if (fd < 0) return std::nullopt;
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  std::string buf, message;
  bool ok = send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
  while (ok && !TakeMessage(buf, &message)) {
    char chunk[4096];
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    ok = n > 0;
    if (ok) buf.append(chunk, static_cast<size_t>(n));
  }
  close(fd);
  if (!ok) return std::nullopt;
  return message.substr(message.find("\r\n\r\n") + 4);
}

// GET /__volley/stats of a target; a discarded json on failure.
json TargetStats(uint16_t port) {
  auto body = HttpGet(port, "/__volley/stats");
  return body ? ParseJson(*body) : json(json::value_t::discarded);
}

uint64_t StatU64(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number_unsigned() ? j[key].get<uint64_t>()
                                                                         : 0;
}

// An HTTP/1.1 server that records every request and answers 200 "ok" (keep-alive).
// Thread-safe accessors; one serving thread.
class CaptureServer {
 public:
  CaptureServer() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        listen(listen_fd_, 128) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        pipe2(wake_, O_CLOEXEC) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~CaptureServer() {
    if (thread_.joinable()) {
      [[maybe_unused]] ssize_t w = write(wake_[1], "x", 1);
      thread_.join();
    }
    for (int fd : {listen_fd_, wake_[0], wake_[1]}) {
      if (fd >= 0) close(fd);
    }
  }
  uint16_t port() const { return port_; }
  std::vector<std::string> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  int connections() const { return connections_.load(); }

 private:
  void Serve() {
    std::map<int, std::string> conns;  // fd -> unparsed input
    for (;;) {
      std::vector<pollfd> fds = {{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
      for (const auto& [fd, buf] : conns) fds.push_back({fd, POLLIN, 0});
      if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
      if (fds[0].revents != 0) break;
      if (fds[1].revents & POLLIN) {
        const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
          conns[fd];
          ++connections_;
        }
      }
      for (size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        const int fd = fds[i].fd;
        char chunk[4096];
        const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
          close(fd);
          conns.erase(fd);
          continue;
        }
        std::string& buf = conns[fd];
        buf.append(chunk, static_cast<size_t>(n));
        std::string message;
        while (TakeMessage(buf, &message)) {
          {
            std::lock_guard<std::mutex> lock(mu_);
            requests_.push_back(message);
          }
          static const char kOk[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
          [[maybe_unused]] ssize_t w = send(fd, kOk, sizeof kOk - 1, MSG_NOSIGNAL);
        }
      }
    }
    for (const auto& [fd, buf] : conns) close(fd);
  }

  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::vector<std::string> requests_;  // guarded by mu_
};

// How often `needle` occurs in `hay`.
size_t Count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}

// The "requests" figure of the text report, e.g. "  requests         1,234  (56.7/s)".
std::optional<uint64_t> ReportedRequests(const std::string& report) {
  static const std::regex kRow(R"(\n\s+requests\s+([0-9,]+)\s)");
  std::smatch m;
  if (!std::regex_search(report, m, kRow)) return std::nullopt;
  std::string digits = m[1].str();
  digits.erase(std::remove(digits.begin(), digits.end(), ','), digits.end());
  return std::stoull(digits);
}

// ---- 1. run against target: the numbers agree ------------------------------------------

TEST(CliTest, RunCountsExactlyWhatTheTargetServed) {
  Target target;
  ASSERT_TRUE(StartTarget({"--threads", "1", "--status-mix", "200:90,503:10"}, &target));
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string summary = dir.File("summary.json");

  const Outcome run = RunVolley({"run", "--url", target.Url(), "-n", "1000", "-c", "10", "--quiet",
                                 "--summary-export", summary});
  ASSERT_TRUE(run.status.Exited(0)) << run.Diagnostics();
  EXPECT_NE(run.out.find("volley report"), std::string::npos) << run.Diagnostics();
  EXPECT_EQ(ReportedRequests(run.out), 1000u) << run.out;

  json j = ParseJson(ReadFile(summary));
  ASSERT_TRUE(j.is_object()) << ReadFile(summary);
  EXPECT_EQ(j["requests_total"], 1000);
  ASSERT_TRUE(j["rps"].is_number());
  EXPECT_GT(j["rps"].get<double>(), 0);
  ASSERT_TRUE(j["duration_s"].is_number());
  EXPECT_GT(j["duration_s"].get<double>(), 0);
  EXPECT_NEAR(j["rps"].get<double>() * j["duration_s"].get<double>(), 1000, 1);
  EXPECT_EQ(j["status_codes"], (json{{"200", 900}, {"503", 100}}));
  EXPECT_EQ(j["errors"]["server_error"], 100);
  EXPECT_EQ(j["errors"]["network_error"], 0);
  EXPECT_EQ(j["errors"]["timeout_error"], 0);
  EXPECT_EQ(j["errors_total"], 100);
  EXPECT_EQ(j["dropped_iterations"], 0);
  EXPECT_EQ(j["interrupted"], false);
  EXPECT_EQ(j["abandoned_in_flight"], 0);
  EXPECT_EQ(j["connections"], 10);
  json& lat = j["latency_ms"];
  ASSERT_TRUE(lat.is_object()) << j.dump(2);
  for (const char* key : {"min", "mean", "p50", "p90", "p95", "p99", "p999", "max"}) {
    ASSERT_TRUE(lat.contains(key) && lat[key].is_number()) << key << " in " << lat.dump();
  }
  EXPECT_EQ(lat["count"], 1000);
  EXPECT_LE(lat["min"].get<double>(), lat["p50"].get<double>());
  EXPECT_LE(lat["p50"].get<double>(), lat["p90"].get<double>());
  EXPECT_LE(lat["p90"].get<double>(), lat["p95"].get<double>());
  EXPECT_LE(lat["p95"].get<double>(), lat["p99"].get<double>());
  EXPECT_LE(lat["p99"].get<double>(), lat["p999"].get<double>());
  EXPECT_LE(lat["p999"].get<double>(), lat["max"].get<double>());
  EXPECT_LE(lat["min"].get<double>(), lat["mean"].get<double>());
  EXPECT_LE(lat["mean"].get<double>(), lat["max"].get<double>());
  EXPECT_GT(lat["max"].get<double>(), 0);

  json live = TargetStats(target.port);
  ASSERT_TRUE(live.is_object()) << "GET /__volley/stats failed";
  EXPECT_EQ(live["requests"], 1000) << live.dump();
  EXPECT_EQ(live["responses"], 1000) << live.dump();
  EXPECT_EQ(live["by_status"], (json{{"200", 900}, {"503", 100}})) << live.dump();

  json printed;
  const ExitStatus stopped = StopTarget(target, &printed);
  EXPECT_TRUE(stopped.Exited(0)) << stopped.Describe() << "\n" << target.proc->Diagnostics();
  ASSERT_TRUE(printed.is_object()) << target.proc->Diagnostics();
  EXPECT_EQ(printed["requests"], 1000);
  EXPECT_EQ(printed["responses"], 1000);
  EXPECT_EQ(printed["by_status"], (json{{"200", 900}, {"503", 100}}));
}

// ---- 2. environment and flags ----------------------------------------------------------

TEST(CliTest, EnvironmentAloneConfiguresSingleRequestMode) {
  CaptureServer server;
  ASSERT_NE(server.port(), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/api/v1";
  const Outcome run = RunVolley({"run"}, CleanEnv({{"TARGET_URL", url},
                                                   {"NUM_CONCURRENT_TASKS", "4"},
                                                   {"MAX_REQUESTS", "200"},
                                                   {"REQUEST_TYPE", "POST"},
                                                   {"SEND_JSON", "true"},
                                                   {"JSON_PAYLOAD", R"({"a":1})"},
                                                   {"CUSTOM_HEADERS", "X-Test: 1"}}));
  ASSERT_TRUE(run.status.Exited(0)) << run.Diagnostics();
  EXPECT_EQ(ReportedRequests(run.out), 200u) << run.Diagnostics();
  EXPECT_NE(run.err.find("4 connections, up to 200 requests"), std::string::npos) << run.err;

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 200u);
  EXPECT_EQ(server.connections(), 4);
  for (const std::string& r : requests) {
    ASSERT_EQ(r.rfind("POST /api/v1 HTTP/1.1\r\n", 0), 0u) << r;
    EXPECT_EQ(Count(r, "\r\nX-Test: 1\r\n"), 1u) << r;
    EXPECT_EQ(Count(Lower(r), "\r\ncontent-type: application/json\r\n"), 1u) << r;
    EXPECT_NE(r.find("\r\nContent-Length: 7\r\n"), std::string::npos) << r;
    EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), R"({"a":1})") << r;
  }
}

TEST(CliTest, FlagsOverrideTheEnvironment) {
  Target target;
  ASSERT_TRUE(StartTarget({"--threads", "1"}, &target));
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string summary = dir.File("summary.json");
  // The environment points at a closed port and asks for an hour, 7 users, 100000 requests.
  const auto start = SteadyClock::now();
  const Outcome run = RunVolley(
      {"run", "--url", target.Url(), "-n", "50", "-c", "3", "--quiet", "--summary-export", summary},
      CleanEnv({{"TARGET_URL", "http://127.0.0.1:1/"},
                {"TEST_DURATION", "1h"},
                {"NUM_CONCURRENT_TASKS", "7"},
                {"MAX_REQUESTS", "100000"}}));
  ASSERT_TRUE(run.status.Exited(0)) << run.Diagnostics();
  EXPECT_LT(SecondsSince(start), 15);
  json j = ParseJson(ReadFile(summary));
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["requests_total"], 50);
  EXPECT_EQ(j["status_codes"], (json{{"200", 50}}));
  EXPECT_EQ(j["connections"], 3);
  json live = TargetStats(target.port);
  EXPECT_EQ(live["responses"], 50) << live.dump();
}

// `--json` replaces the body of SEND_JSON/JSON_PAYLOAD; the request must still carry one
// Content-Type, not one from each source.
TEST(CliTest, JsonFlagReplacesTheEnvironmentPayload) {
  CaptureServer server;
  ASSERT_NE(server.port(), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  const Outcome run = RunVolley({"run", "--json", R"({"b":2})", "-n", "5", "-c", "1", "--quiet"},
                                CleanEnv({{"TARGET_URL", url},
                                          {"REQUEST_TYPE", "POST"},
                                          {"SEND_JSON", "true"},
                                          {"JSON_PAYLOAD", R"({"a":1})"}}));
  ASSERT_TRUE(run.status.Exited(0)) << run.Diagnostics();
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 5u);
  for (const std::string& r : requests) {
    EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), R"({"b":2})") << r;
    EXPECT_EQ(Count(Lower(r), "\r\ncontent-type:"), 1u) << "duplicate Content-Type:\n" << r;
  }
}

// -H overrides CUSTOM_HEADERS as every flag overrides its variable: the headers of the
// flags are sent, those of the environment are not.
TEST(CliTest, HeaderFlagsReplaceCustomHeaders) {
  CaptureServer server;
  ASSERT_NE(server.port(), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  const Outcome run =
      RunVolley({"run", "-H", "X-Flag: 2", "-H", "X-Other: 3", "-n", "3", "-c", "1", "--quiet"},
                CleanEnv({{"TARGET_URL", url}, {"CUSTOM_HEADERS", "X-Env: 1"}}));
  ASSERT_TRUE(run.status.Exited(0)) << run.Diagnostics();
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  for (const std::string& r : requests) {
    EXPECT_EQ(Count(r, "\r\nX-Flag: 2\r\n"), 1u) << r;
    EXPECT_EQ(Count(r, "\r\nX-Other: 3\r\n"), 1u) << r;
    EXPECT_EQ(Count(r, "X-Env"), 0u) << r;
  }
}

// ---- 3. bad configuration: exit 2, naming the problem ----------------------------------

struct BadConfig {
  const char* name;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
  std::vector<std::string> mentions;  // each must appear in stderr
};

void PrintTo(const BadConfig& c, std::ostream* os) { *os << c.name; }

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigTest, ExitsTwoAndNamesTheProblem) {
  const BadConfig& c = GetParam();
  const Outcome run = RunVolley(c.args, CleanEnv(c.env), kQuick);
  EXPECT_TRUE(run.status.Exited(2)) << run.Diagnostics();
  for (const auto& m : c.mentions) {
    EXPECT_NE(run.err.find(m), std::string::npos) << "stderr lacks '" << m << "'\n"
                                                  << run.Diagnostics();
  }
  EXPECT_EQ(run.out.find("volley report"), std::string::npos) << run.Diagnostics();
}

// A URL no test listens on: if a case were wrongly accepted, its run ends at once.
const char* const kDeadUrl = "http://127.0.0.1:1/";

INSTANTIATE_TEST_SUITE_P(
    Cli, BadConfigTest,
    ::testing::Values(
        BadConfig{"DurationNotADuration",
                  {"run"},
                  {{"TARGET_URL", kDeadUrl}, {"TEST_DURATION", "forever"}},
                  {"TEST_DURATION", "forever"}},
        BadConfig{
            "UrlSchemeNotHttp", {"run", "--url", "ftp://x"}, {}, {"--url", "ftp://x", "http"}},
        BadConfig{"RpsModelWithoutRate",
                  {"run"},
                  {{"TARGET_URL", kDeadUrl}, {"LOAD_MODEL_TYPE", "Rps"}, {"TEST_DURATION", "1s"}},
                  {"TARGET_RPS"}},
        BadConfig{"NoUrlAtAll", {"run", "-d", "1s"}, {}, {"TARGET_URL"}},
        BadConfig{"UnknownFlag", {"run", "--url", kDeadUrl, "--bogus-flag"}, {}, {"--bogus-flag"}},
        BadConfig{"TargetStatusMixWeightNotANumber",
                  {"target", "--listen", "127.0.0.1:0", "--status-mix", "200:x"},
                  {},
                  {"--status-mix", "200:x"}},
        BadConfig{"UsersNotAnInteger",
                  {"run"},
                  {{"TARGET_URL", kDeadUrl}, {"NUM_CONCURRENT_TASKS", "ten"}},
                  {"NUM_CONCURRENT_TASKS", "ten"}},
        BadConfig{"NegativeRequestBudget",
                  {"run"},
                  {{"TARGET_URL", kDeadUrl}, {"MAX_REQUESTS", "-5"}, {"TEST_DURATION", "1s"}},
                  {"MAX_REQUESTS", "-5"}},
        BadConfig{"NegativeRequestBudgetFlag",
                  {"run", "--url", kDeadUrl, "-n", "-5", "-d", "1s"},
                  {},
                  {"--max-requests", "-5"}}),
    [](const ::testing::TestParamInfo<BadConfig>& info) { return std::string(info.param.name); });

// ---- 4. an unreachable target is a run with errors, not a failure -----------------------

TEST(CliTest, UnreachableTargetCountsNetworkErrorsAndExitsZero) {
  // A bound socket that never listens: connecting to its port is refused, and no other
  // process can take the port meanwhile.
  const int holder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(getsockname(holder, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string summary = dir.File("summary.json");

  const Outcome run = RunVolley(
      {"run", "--url", url, "-n", "20", "-c", "4", "--quiet", "--summary-export", summary},
      CleanEnv(), kQuick);  // 20 refused connects take milliseconds
  close(holder);
  ASSERT_TRUE(run.status.Exited(0)) << run.Diagnostics();
  json j = ParseJson(ReadFile(summary));
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["requests_total"], 20);
  EXPECT_EQ(j["errors"]["network_error"], 20);
  EXPECT_EQ(j["errors_total"], 20);
  EXPECT_EQ(j["status_codes"], json::object());
  EXPECT_EQ(j["latency_ms"]["count"], 0);
}

// ---- 5. Ctrl-C ---------------------------------------------------------------------------

TEST(CliTest, CtrlCDrainsInFlightRequestsAndReportsExactly) {
  Target target;
  ASSERT_TRUE(StartTarget({"--threads", "1", "--latency", "50ms"}, &target));
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string summary = dir.File("summary.json");
  std::string error;
  auto run = Subprocess::Spawn(
      Argv({"run", "--url", target.Url(), "-d", "60s", "-c", "4", "--summary-export", summary}),
      CleanEnv(), &error);
  ASSERT_TRUE(run) << error;
  // Wait until the target has answered some requests (so the run is in full swing).
  ASSERT_TRUE(PollUntil([&] { return StatU64(TargetStats(target.port), "responses") >= 8; },
                        milliseconds(15'000)))
      << run->Diagnostics();
  ASSERT_TRUE(run->running()) << run->Diagnostics();

  ASSERT_TRUE(run->Signal(SIGINT));
  const auto sent = SteadyClock::now();
  const ExitStatus s = run->Wait(kQuick);
  const double took = SecondsSince(sent);
  ASSERT_TRUE(s.Exited(130)) << s.Describe() << "\n" << run->Diagnostics();
  EXPECT_LT(took, 3.0) << "slower than the default 3s grace period";
  const std::string out = run->Stdout();
  EXPECT_NE(out.find("volley report"), std::string::npos) << out;
  EXPECT_NE(out.find("(interrupted)"), std::string::npos) << out;
  EXPECT_NE(run->Stderr().find("draining requests in flight"), std::string::npos) << run->Stderr();

  json j = ParseJson(ReadFile(summary));
  ASSERT_TRUE(j.is_object()) << run->Diagnostics();
  EXPECT_EQ(j["interrupted"], true);
  EXPECT_EQ(j["abandoned_in_flight"], 0);
  EXPECT_EQ(j["errors_total"], 0);
  json live = TargetStats(target.port);
  ASSERT_TRUE(live.is_object());
  const uint64_t served = StatU64(live, "responses");
  EXPECT_GE(served, 8u);
  EXPECT_EQ(StatU64(live, "requests"), served) << live.dump();
  EXPECT_EQ(j["requests_total"], served) << j.dump(2);
  EXPECT_EQ(j["status_codes"], (json{{"200", served}}));
  EXPECT_EQ(ReportedRequests(out), served);
}

// Ctrl-C as soon as the run has announced itself (its signal handling is installed then):
// the stop request may reach the engine before its worker threads are up, and must not
// be lost. The window is short, so the test tries several times.
TEST(CliTest, CtrlCRightAtTheStartStopsTheRun) {
  Target target;
  ASSERT_TRUE(StartTarget({"--threads", "1"}, &target));
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::string error;
    // Many worker threads widen the window between the workers' creation and their loops.
    auto run = Subprocess::Spawn(
        Argv({"run", "--url", target.Url(), "-d", "60s", "-c", "16", "-t", "16", "--quiet"}),
        CleanEnv(), &error);
    ASSERT_TRUE(run) << error;
    ASSERT_TRUE(run->WaitForStderr(
        [](const std::string& e) { return e.find(" connections, for ") != std::string::npos; },
        kQuick, milliseconds(1)))
        << run->Diagnostics();
    ASSERT_TRUE(run->Signal(SIGINT));
    const auto sent = SteadyClock::now();
    const ExitStatus s = run->Wait(milliseconds(5'000));
    ASSERT_TRUE(s.Exited(130)) << "attempt " << attempt << ": " << s.Describe() << " after "
                               << SecondsSince(sent) << " s\n"
                               << run->Diagnostics();
    ASSERT_LT(SecondsSince(sent), 3.0) << "attempt " << attempt;
    EXPECT_NE(run->Stdout().find("(interrupted)"), std::string::npos) << run->Diagnostics();
  }
}

TEST(CliTest, SecondCtrlCQuitsAtOnceDespiteALongGracePeriod) {
  // The target answers nothing for its first 20 s: every request of the run hangs.
  Target target;
  ASSERT_TRUE(StartTarget({"--threads", "1", "--stall", "20s/30s"}, &target));
  std::string error;
  auto run = Subprocess::Spawn(
      Argv({"run", "--url", target.Url(), "-d", "60s", "-c", "4", "--grace", "30s", "--quiet"}),
      CleanEnv(), &error);
  ASSERT_TRUE(run) << error;
  ASSERT_TRUE(PollUntil([&] { return StatU64(TargetStats(target.port), "requests") >= 4; },
                        milliseconds(10'000)))
      << run->Diagnostics();
  json before = TargetStats(target.port);
  ASSERT_EQ(StatU64(before, "responses"), 0u) << before.dump();

  ASSERT_TRUE(run->Signal(SIGINT));
  // The two signals must not merge into one pending SIGINT: wait for the first to be taken.
  ASSERT_TRUE(run->WaitForStderr(
      [](const std::string& e) { return e.find("Ctrl-C again") != std::string::npos; }, kQuick))
      << run->Diagnostics();
  ASSERT_TRUE(run->running()) << "the first Ctrl-C should drain (the grace period is 30s)\n"
                              << run->Diagnostics();
  ASSERT_TRUE(run->Signal(SIGINT));
  const auto sent = SteadyClock::now();
  const ExitStatus s = run->Wait(milliseconds(15'000));
  EXPECT_TRUE(s.Exited(130)) << s.Describe() << "\n" << run->Diagnostics();
  EXPECT_LT(SecondsSince(sent), 10.0);
  // The stall was still on, so only the second Ctrl-C can have ended the run.
  EXPECT_LT(SecondsSince(target.spawned), 20.0);
  EXPECT_EQ(StatU64(TargetStats(target.port), "responses"), 0u);
}

// ---- 6. help and version ---------------------------------------------------------------

TEST(CliTest, HelpAndVersion) {
  const Outcome help = RunVolley({"--help"}, CleanEnv(), kQuick);
  ASSERT_TRUE(help.status.Exited(0)) << help.Diagnostics();
  for (const char* sub : {"run", "target", "demo"}) {
    EXPECT_NE(help.out.find(sub), std::string::npos) << sub << "\n" << help.out;
  }

  const Outcome run_help = RunVolley({"run", "--help"}, CleanEnv(), kQuick);
  ASSERT_TRUE(run_help.status.Exited(0)) << run_help.Diagnostics();
  for (const auto& doc : config::EnvVarDocs()) {
    EXPECT_NE(run_help.out.find(doc.name), std::string::npos) << doc.name << " is undocumented";
  }
  EXPECT_NE(run_help.out.find("Exit codes: 0 success, 1 runtime failure, 2 bad configuration, "
                              "99 a threshold failed,\n130 interrupted"),
            std::string::npos)
      << run_help.out;

  const Outcome version = RunVolley({"--version"}, CleanEnv(), kQuick);
  ASSERT_TRUE(version.status.Exited(0)) << version.Diagnostics();
  EXPECT_TRUE(std::regex_search(version.out, std::regex(R"(^volley \d+\.\d+\.\d+\s*$)")))
      << version.out;
}

TEST(CliTest, NoSubcommandFailsWithUsage) {
  const Outcome bare = RunVolley({}, CleanEnv(), kQuick);
  EXPECT_TRUE(bare.status.exited && bare.status.code != 0) << bare.Diagnostics();
  EXPECT_EQ(bare.status.code, 2) << bare.Diagnostics();
  const std::string all = bare.out + bare.err;
  // The user should learn what to type next: the subcommands.
  for (const char* sub : {"run", "target", "demo"}) {
    EXPECT_NE(all.find(sub), std::string::npos) << sub << "\n" << bare.Diagnostics();
  }
}

// ---- 7. demo -----------------------------------------------------------------------------

TEST(CliTest, DemoRunsAgainstItsOwnTargetAndAgreesWithIt) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string summary = dir.File("summary.json");
  const Outcome demo = RunVolley({"demo", "-d", "2s", "-c", "8", "--summary-export", summary});
  ASSERT_TRUE(demo.status.Exited(0)) << demo.Diagnostics();
  EXPECT_GT(demo.seconds, 1.9);
  json j = ParseJson(ReadFile(summary));
  ASSERT_TRUE(j.is_object());
  const uint64_t total = j["requests_total"].get<uint64_t>();
  ASSERT_GT(total, 50u);
  ASSERT_TRUE(j["status_codes"].contains("503")) << j.dump(2);
  // The demo target's 98:2 mix is a smooth round-robin: one 503 in every 50 answers.
  const uint64_t n503 = j["status_codes"]["503"].get<uint64_t>();
  EXPECT_GE(n503, total / 50);
  EXPECT_LE(n503, (total + 49) / 50);
  EXPECT_EQ(j["status_codes"]["200"].get<uint64_t>() + n503, total);
  EXPECT_EQ(j["errors"]["server_error"], n503);

  const size_t at = demo.out.find("target saw: ");
  ASSERT_NE(at, std::string::npos) << demo.out;
  json saw = ParseJson(demo.out.substr(at + 12));
  ASSERT_TRUE(saw.is_object()) << demo.out;
  EXPECT_EQ(saw["responses"], total);
  EXPECT_EQ(saw["by_status"], j["status_codes"]);
}

TEST(CliTest, DemoCtrlCDrainsAndReportsLikeRun) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string summary = dir.File("summary.json");
  std::string error;
  auto demo = Subprocess::Spawn(Argv({"demo", "-d", "30s", "-c", "4", "--summary-export", summary}),
                                CleanEnv(), &error);
  ASSERT_TRUE(demo) << error;
  // The first progress line (after about 1 s) shows the workers are well under way.
  ASSERT_TRUE(demo->WaitForStderr(
      [](const std::string& e) { return e.find(" req/s ") != std::string::npos; }, kQuick))
      << demo->Diagnostics();
  ASSERT_TRUE(demo->Signal(SIGINT));
  const ExitStatus s = demo->Wait(kQuick);
  ASSERT_TRUE(s.Exited(130)) << s.Describe() << "\n" << demo->Diagnostics();
  const std::string out = demo->Stdout();
  EXPECT_NE(out.find("(interrupted)"), std::string::npos) << demo->Diagnostics();
  json j = ParseJson(ReadFile(summary));
  ASSERT_TRUE(j.is_object()) << demo->Diagnostics();
  EXPECT_EQ(j["interrupted"], true);
  const size_t at = out.find("target saw: ");
  ASSERT_NE(at, std::string::npos) << demo->Diagnostics();
  json saw = ParseJson(out.substr(at + 12));
  ASSERT_TRUE(saw.is_object()) << out;
  EXPECT_GT(j["requests_total"].get<uint64_t>(), 0u);
  EXPECT_EQ(saw["responses"], j["requests_total"]);
  EXPECT_EQ(saw["by_status"], j["status_codes"]);
}

}  // namespace
}  // namespace volley
