// The engine against a real TLS server (`openssl s_server -www`) on loopback, with a CA and
// certificates made by the `openssl` CLI for each run: verification, skip-verify, mTLS, SNI
// and RESOLVE_TARGET_ADDR.
//
// s_server -www answers each GET with "HTTP/1.0 200 ok" and a page delimited by close, so
// every request also exercises the close-delimited body path and a fresh TLS handshake.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fakes/engine_run.h"
#include "volley/config/env.h"
#include "volley/engine/engine.h"
#include "volley/metrics/collector.h"
#include "volley/metrics/names.h"
#include "volley/output/summary.h"

extern char** environ;

namespace volley {
namespace {

namespace fs = std::filesystem;
namespace names = metrics::names;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kRequests = 10;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The loopback address the engine will connect to for `host` (its first getaddrinfo
// answer), in s_server's -accept syntax: "127.0.0.1" or "[::1]".
std::string AcceptHostFor(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), "443", &hints, &res) != 0 || !res) return "127.0.0.1";
  char text[INET6_ADDRSTRLEN] = {};
  std::string out = "127.0.0.1";
  if (res->ai_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr, text,
              sizeof text);
    out = std::string("[") + text + "]";
  } else if (res->ai_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, text, sizeof text);
    out = text;
  }
  freeaddrinfo(res);
  return out;
}

// True once a TCP connect to host:port succeeds, polling until `deadline`.
bool WaitForListener(const std::string& accept_host, uint16_t port, Clock::time_point deadline) {
  std::string host = accept_host;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return false;
  bool ok = false;
  while (!ok && Clock::now() < deadline) {
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ok = fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0;
    if (fd >= 0) close(fd);
    if (!ok) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  freeaddrinfo(res);
  return ok;
}

// `openssl s_server -www` as a child process, killed (and reaped) by the destructor.
// Confined to the test's thread.
class TlsServer {
 public:
  // Starts `openssl s_server -accept <accept_host>:0 -www <args...>` with its output in
  // `dir`, reads the port it bound from its "ACCEPT host:port" line and waits until it
  // accepts connections (10 s at most). On failure returns nullptr and sets `*error`.
  static std::unique_ptr<TlsServer> Start(const fs::path& dir, const std::string& accept_host,
                                          const std::vector<std::string>& args,
                                          std::string* error) {
    static int serial = 0;
    const std::string tag = "s_server" + std::to_string(++serial);
    std::unique_ptr<TlsServer> s(new TlsServer(dir / (tag + ".out"), dir / (tag + ".err")));
    std::vector<std::string> argv_s = {"openssl", "s_server", "-accept", accept_host + ":0",
                                       "-www"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, s->out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, s->err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int rc = posix_spawnp(&s->pid_, "openssl", &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      s->pid_ = -1;
      *error = std::string("posix_spawnp openssl: ") + strerror(rc);
      return nullptr;
    }
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    const std::string prefix = "ACCEPT " + accept_host + ":";
    while (s->port_ == 0) {
      const std::string out = ReadFile(s->out_);
      if (size_t at = out.find(prefix); at != std::string::npos) {
        const size_t eol = out.find('\n', at);
        if (eol != std::string::npos) {
          s->port_ = static_cast<uint16_t>(
              std::stoi(out.substr(at + prefix.size(), eol - at - prefix.size())));
          break;
        }
      }
      int status = 0;
      if (waitpid(s->pid_, &status, WNOHANG) == s->pid_) {
        s->pid_ = -1;
        *error = "s_server exited early: " + ReadFile(s->err_);
        return nullptr;
      }
      if (Clock::now() > deadline) {
        *error = "s_server printed no ACCEPT line within 10 s: " + ReadFile(s->err_);
        return nullptr;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!WaitForListener(accept_host, s->port_, deadline)) {
      *error = "s_server does not accept connections on port " + std::to_string(s->port_);
      return nullptr;
    }
    return s;
  }

  ~TlsServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  uint16_t port() const { return port_; }
  // What s_server wrote on stderr so far (handshake errors), for failure messages.
  std::string Log() const { return ReadFile(err_); }

 private:
  TlsServer(fs::path out, fs::path err) : out_(std::move(out)), err_(std::move(err)) {}

  const fs::path out_, err_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

using Outcome = fakes::EngineOutcome;

class TlsTest : public ::testing::Test {
 protected:
  // A CA and certificates signed by it, made once for the suite:
  //   localhost.pem  SAN DNS:localhost, IP:127.0.0.1, IP:::1   (serverAuth)
  //   example.pem    SAN DNS:example.test                      (serverAuth)
  //   wrong.pem      SAN DNS:wrong.test                        (serverAuth)
  //   client.pem     CN=volley client                          (clientAuth)
  //   rogue.pem      self-signed client certificate, not from the CA
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/volley-tls-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr) << strerror(errno);
    dir_ = new fs::path(tmpl);
    const fs::path& d = *dir_;
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    ASSERT_TRUE(Sh("openssl req -x509" + ec + " -keyout " + P("ca.key") + " -out " + P("ca.pem") +
                   " -days 2 -subj '/CN=volley test CA'"
                   " -addext keyUsage=critical,keyCertSign,cRLSign"));
    int serial = 1;
    auto leaf = [&](const std::string& name, const std::string& cn, const std::string& ext) {
      std::ofstream(d / (name + ".ext")) << "basicConstraints=CA:FALSE\n" << ext << "\n";
      return Sh("openssl req -new" + ec + " -keyout " + P(name + ".key") + " -out " +
                P(name + ".csr") + " -subj '/CN=" + cn + "'") &&
             Sh("openssl x509 -req -in " + P(name + ".csr") + " -CA " + P("ca.pem") + " -CAkey " +
                P("ca.key") + " -set_serial " + std::to_string(++serial) + " -days 2 -extfile " +
                P(name + ".ext") + " -out " + P(name + ".pem"));
    };
    ASSERT_TRUE(leaf("localhost", "localhost",
                     "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
                     "extendedKeyUsage=serverAuth"));
    ASSERT_TRUE(leaf("example", "example.test",
                     "subjectAltName=DNS:example.test\nextendedKeyUsage=serverAuth"));
    ASSERT_TRUE(
        leaf("wrong", "wrong.test", "subjectAltName=DNS:wrong.test\nextendedKeyUsage=serverAuth"));
    ASSERT_TRUE(leaf("client", "volley client", "extendedKeyUsage=clientAuth"));
    ASSERT_TRUE(Sh("openssl req -x509" + ec + " -keyout " + P("rogue.key") + " -out " +
                   P("rogue.pem") + " -days 2 -subj '/CN=rogue client'"));
  }

  static void TearDownTestSuite() {
    if (!dir_) return;
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    dir_ = nullptr;
  }

  // A path in the suite's directory, as a shell word (mkdtemp names need no quoting).
  static std::string P(const std::string& name) { return (*dir_ / name).string(); }

  // Runs a shell command with its output appended to openssl.log; true on exit status 0.
  static bool Sh(const std::string& cmd) {
    const std::string log = P("openssl.log");
    const int rc = std::system((cmd + " >>" + log + " 2>&1").c_str());
    EXPECT_EQ(rc, 0) << cmd << "\n" << ReadFile(log);
    return rc == 0;
  }

  // Starts s_server on the address the engine will use for `host`, with `args`.
  void StartServer(const std::string& host, const std::vector<std::string>& args) {
    std::string error;
    server_ = TlsServer::Start(*dir_, AcceptHostFor(host), args, &error);
    ASSERT_TRUE(server_) << error;
  }

  // s_server arguments: the certificate and key `name`.pem/.key as the default pair.
  static std::vector<std::string> Cert(const std::string& name) {
    return {"-cert", P(name + ".pem"), "-key", P(name + ".key")};
  }

  // Demand a client certificate from the test CA (-verify_return_error makes s_server fail
  // the handshake on a bad one instead of only logging it).
  static std::vector<std::string> RequireClientCert() {
    return {"-Verify", "1", "-verify_return_error", "-CAfile", P("ca.pem")};
  }

  // The default certificate is for wrong.test; only a client that sends SNI `name` gets the
  // certificate `cert` (-cert2), and any other SNI gets a fatal unrecognized_name alert. A
  // client that sends no SNI gets the default one.
  static std::vector<std::string> SniServer(const std::string& name, const std::string& cert) {
    return {"-cert",  P("wrong.pem"),   "-key",  P("wrong.key"),   "-servername",      name,
            "-cert2", P(cert + ".pem"), "-key2", P(cert + ".key"), "-servername_fatal"};
  }

  static std::vector<std::string> Concat(std::vector<std::string> a,
                                         const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  // 10 requests over 2 connections on one thread. The duration only bounds a broken run:
  // every test expects the run to end by its request budget, long before.
  config::TestPlan Plan(const std::string& host) {
    config::TestPlan plan;
    const std::string url = "https://" + host + ":" + std::to_string(server_->port()) + "/";
    auto parsed = config::ParseUrl(url);
    EXPECT_TRUE(parsed.has_value()) << url;
    if (parsed) plan.target = *parsed;
    plan.threads = 1;
    plan.workers = 2;
    plan.max_requests = kRequests;
    plan.request_timeout = std::chrono::seconds(5);
    plan.connect_timeout = std::chrono::seconds(5);
    plan.grace_period = std::chrono::seconds(1);
    plan.duration = std::chrono::seconds(4);
    return plan;
  }

  Outcome Run(const config::TestPlan& plan) { return fakes::RunEngine(plan, true); }

  // Every request got the s_server status page over its own verified TLS connection.
  void ExpectAllSucceeded(const Outcome& o) {
    EXPECT_EQ(o.summary.requests_total, kRequests);
    EXPECT_EQ(o.summary.errors_total, 0u)
        << ::testing::PrintToString(o.summary.errors) << "\ns_server: " << server_->Log();
    EXPECT_EQ(o.summary.status_codes, (std::map<std::string, uint64_t>{{"200", kRequests}}));
    EXPECT_GT(o.summary.data_received, 0u);
    // HTTP/1.0 without keep-alive: one connection, hence one handshake, per request.
    const metrics::Histogram* tls = o.snapshot.FindTrend(names::kTlsHandshaking);
    ASSERT_NE(tls, nullptr);
    EXPECT_EQ(tls->count(), kRequests);
  }

  // Every request failed with `category`, and none got a response.
  void ExpectAllFailed(const Outcome& o, const std::string& category) {
    EXPECT_EQ(o.summary.requests_total, kRequests);
    std::map<std::string, uint64_t> expected;
    for (const char* c : names::kCategories) expected[c] = 0;
    expected[category] = kRequests;
    EXPECT_EQ(o.summary.errors, expected);
    EXPECT_TRUE(o.summary.status_codes.empty());
  }

  static fs::path* dir_;
  std::unique_ptr<TlsServer> server_;
};

fs::path* TlsTest::dir_ = nullptr;

TEST_F(TlsTest, VerifiesTheServerAgainstTheGivenCa) {
  StartServer("localhost", Cert("localhost"));
  config::TestPlan plan = Plan("localhost");
  plan.tls.ca_file = P("ca.pem");
  ExpectAllSucceeded(Run(plan));
}

TEST_F(TlsTest, WithoutTheCaEveryRequestIsATlsError) {
  // Only the system store is trusted: the handshake fails on the unknown issuer. Each
  // failed connect is one iteration of the closed model.
  StartServer("localhost", Cert("localhost"));
  Outcome o = Run(Plan("localhost"));
  ExpectAllFailed(o, "tls_error");
  EXPECT_EQ(o.summary.data_sent, 0u) << "no request is sent over an unverified connection";
  // The report names the certificate problem (OpenSSL's verify text), not just "TLS error".
  EXPECT_NE(o.info.first_errors.at("tls_error").find("certificate"), std::string::npos)
      << o.info.first_errors.at("tls_error");
}

TEST_F(TlsTest, WrongHostNameIsATlsError) {
  // A certificate from the trusted CA, but for wrong.test: the name check must fail.
  StartServer("localhost", Cert("wrong"));
  config::TestPlan plan = Plan("localhost");
  plan.tls.ca_file = P("ca.pem");
  ExpectAllFailed(Run(plan), "tls_error");
}

TEST_F(TlsTest, SkipVerifyAcceptsAnUntrustedCertificateForAnotherName) {
  StartServer("localhost", Cert("wrong"));
  config::TestPlan plan = Plan("localhost");
  plan.tls.skip_verify = true;
  ExpectAllSucceeded(Run(plan));
}

TEST_F(TlsTest, MutualTlsWithoutAClientCertificateIsATlsError) {
  // With TLS 1.3 the client's handshake completes before the server has checked the
  // client's (empty) Certificate message, so the engine sends its request; the server then
  // answers with a certificate_required alert, which SSL_read reports as SSL_ERROR_SSL:
  // tls_error, counted against the request rather than as a failed connect.
  StartServer("localhost", Concat(Cert("localhost"), RequireClientCert()));
  config::TestPlan plan = Plan("localhost");
  plan.tls.ca_file = P("ca.pem");
  Outcome o = Run(plan);
  ExpectAllFailed(o, "tls_error");
  EXPECT_EQ(o.summary.data_sent, kRequests * o.request_size) << "each request was sent";
}

TEST_F(TlsTest, MutualTlsWithAClientCertificateFromAnotherCaIsATlsError) {
  StartServer("localhost", Concat(Cert("localhost"), RequireClientCert()));
  config::TestPlan plan = Plan("localhost");
  plan.tls.ca_file = P("ca.pem");
  plan.tls.client_cert_path = P("rogue.pem");
  plan.tls.client_key_path = P("rogue.key");
  ExpectAllFailed(Run(plan), "tls_error");
}

TEST_F(TlsTest, MutualTlsWithTheClientCertificateSucceeds) {
  StartServer("localhost", Concat(Cert("localhost"), RequireClientCert()));
  config::TestPlan plan = Plan("localhost");
  plan.tls.ca_file = P("ca.pem");
  plan.tls.client_cert_path = P("client.pem");
  plan.tls.client_key_path = P("client.key");
  ExpectAllSucceeded(Run(plan));
}

TEST_F(TlsTest, SendsTheTargetHostAsSni) {
  // Verification succeeds only with the localhost certificate, which the server hands out
  // only to a client that sent SNI "localhost".
  StartServer("localhost", SniServer("localhost", "localhost"));
  config::TestPlan plan = Plan("localhost");
  plan.tls.ca_file = P("ca.pem");
  ExpectAllSucceeded(Run(plan));
}

TEST_F(TlsTest, SniServerRejectsAClientThatSendsAnotherName) {
  // The control for the test above: the same server setup, but expecting example.test,
  // refuses the engine that (rightly) sends "localhost".
  StartServer("localhost", SniServer("example.test", "example"));
  config::TestPlan plan = Plan("localhost");
  plan.tls.skip_verify = true;  // the failure must come from SNI, not verification
  ExpectAllFailed(Run(plan), "tls_error");
}

TEST_F(TlsTest, ResolveTargetAddrKeepsTheNameForSniAndVerification) {
  // example.test does not resolve; RESOLVE_TARGET_ADDR sends the connection to the server,
  // while SNI, the certificate name check and the Host header keep example.test.
  StartServer("127.0.0.1", SniServer("example.test", "example"));
  config::TestPlan plan = Plan("example.test");
  plan.resolve_host = "example.test";
  plan.resolve_ip = "127.0.0.1";
  plan.resolve_port = server_->port();
  plan.tls.ca_file = P("ca.pem");
  auto engine = engine::Engine::Create(plan);
  ASSERT_TRUE(engine.has_value()) << engine.error().message;
  EXPECT_NE((*engine)->request_bytes().find(
                "\r\nHost: example.test:" + std::to_string(server_->port()) + "\r\n"),
            std::string::npos)
      << (*engine)->request_bytes();
  ExpectAllSucceeded(Run(plan));
}

TEST_F(TlsTest, VerifiesAnIpLiteralTargetAgainstTheIpSan) {
  // https://127.0.0.1/ must be checked against the certificate's IP SAN, not as a DNS name.
  StartServer("127.0.0.1", Cert("localhost"));
  config::TestPlan plan = Plan("127.0.0.1");
  plan.tls.ca_file = P("ca.pem");
  ExpectAllSucceeded(Run(plan));
}

TEST_F(TlsTest, IpLiteralTargetWithoutThatIpInTheCertificateIsATlsError) {
  // The control for the test above: example.pem has no IP SAN.
  StartServer("127.0.0.1", Cert("example"));
  config::TestPlan plan = Plan("127.0.0.1");
  plan.tls.ca_file = P("ca.pem");
  ExpectAllFailed(Run(plan), "tls_error");
}

TEST_F(TlsTest, DoesNotSendAnIpLiteralAsSni) {
  // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName". A client
  // that sends no SNI gets this server's default certificate (localhost.pem, which has the
  // IP SAN); one that sends "127.0.0.1" gets a fatal unrecognized_name alert.
  StartServer("127.0.0.1",
              Concat(Cert("localhost"), {"-servername", "localhost", "-cert2", P("localhost.pem"),
                                         "-key2", P("localhost.key"), "-servername_fatal"}));
  config::TestPlan plan = Plan("127.0.0.1");
  plan.tls.ca_file = P("ca.pem");
  ExpectAllSucceeded(Run(plan));
}

}  // namespace
}  // namespace volley
