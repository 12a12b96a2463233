// Who may join a cluster, and what hostile bytes on the cluster port cost (issue 12 §7):
// wrong token, foreign CA, no client certificate, garbage and half-open connections.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "integration/cluster_harness.h"

namespace volley::testing {
namespace {

constexpr milliseconds kForm(30'000);

uint64_t Refused(ClusterHarness& c, const std::vector<size_t>& nodes) {
  uint64_t n = 0;
  for (size_t i : nodes) {
    if (auto h = c.Health(i)) n += (*h)["refused_peers"].get<uint64_t>();
  }
  return n;
}

// Resident memory of a process in KiB (VmRSS), 0 when unknown.
uint64_t RssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

int Sh(const std::string& command) { return std::system(command.c_str()); }

// A CA and one certificate for 127.0.0.1 (server and client use) signed by it, in `dir`.
bool MakeCa(const std::string& dir, const std::string& name) {
  const std::string d = dir + "/" + name;
  std::ofstream(d + ".ext") << "subjectAltName=IP:127.0.0.1\n"
                               "extendedKeyUsage=serverAuth,clientAuth\n";
  const std::string quiet = " >/dev/null 2>&1";
  return Sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
            d + "-ca.key -out " + d + "-ca.pem -days 2 -subj /CN=" + name + "-ca" + quiet) == 0 &&
         Sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + d +
            ".key -out " + d + ".csr -subj /CN=" + name + "-node" + quiet) == 0 &&
         Sh("openssl x509 -req -in " + d + ".csr -CA " + d + "-ca.pem -CAkey " + d +
            "-ca.key -CAcreateserial -out " + d + ".pem -days 2 -extfile " + d + ".ext" + quiet) ==
             0;
}

std::map<std::string, std::string> TlsEnv(const std::string& dir, const std::string& name) {
  const std::string d = dir + "/" + name;
  return {{"CLUSTER_TLS_CERT", d + ".pem"},
          {"CLUSTER_TLS_KEY", d + ".key"},
          {"CLUSTER_TLS_CA", d + "-ca.pem"}};
}

// Binding beyond loopback with neither token nor mTLS: refused before any port opens.
// (The accepted CLUSTER_INSECURE=true case is ValidateClusterOptions' unit test: starting it
// here would listen on every interface of the machine.)
TEST(ClusterSecurity, UnauthenticatedNonLoopbackBindRefusesToStart) {
  ClusterHarness c(1);
  c[0].host = "0.0.0.0";
  c.Start(0, "127.0.0.1:" + std::to_string(c[0].raft_port));
  const auto st = c[0].process->Wait(milliseconds(10'000));
  EXPECT_TRUE(st.Exited(2)) << st.Describe() << c.Diagnostics();
  const std::string err = c[0].process->Stderr();
  EXPECT_NE(err.find("CLUSTER_BIND_ADDR: 0.0.0.0:"), std::string::npos) << err;
  EXPECT_NE(err.find("CLUSTER_INSECURE=true"), std::string::npos) << err;
}

TEST(ClusterSecurity, WrongTokenIsRefusedAndTheClusterIsUnaffected) {
  ClusterHarness c(4);  // all four listed everywhere; n3 has the wrong token
  const std::string token = "t0ken-Of-The-Cluster";
  for (size_t i = 0; i < 3; ++i) c[i].extra_env["CLUSTER_TOKEN"] = token;
  c[3].extra_env["CLUSTER_TOKEN"] = "not-the-t0ken";
  for (size_t i = 0; i < 3; ++i) c.Start(i);
  auto leader = c.WaitForAgreement({0, 1, 2}, kForm);
  ASSERT_TRUE(leader) << c.Diagnostics();
  const auto term = (*c.Health(*leader))["term"];
  c.Start(3);
  ASSERT_TRUE(PollUntil([&] { return Refused(c, {0, 1, 2}) >= 2; }, kForm)) << c.Diagnostics();
  auto h3 = c.Health(3);
  ASSERT_TRUE(h3);
  EXPECT_EQ((*h3)["state"], "forming");
  EXPECT_EQ((*h3)["leader_id"], "");
  EXPECT_EQ(*c.WaitForAgreement({0, 1, 2}, kForm), *leader);
  EXPECT_EQ((*c.Health(*leader))["term"], term);
  // The refusal names the problem; no log, health or error shows either token.
  EXPECT_NE(c[*leader].process->Stderr().find("wrong cluster token"), std::string::npos);
  for (size_t i = 0; i < 4; ++i) {
    const std::string all = c[i].process->Stderr() + c.Health(i)->dump();
    EXPECT_EQ(all.find(token), std::string::npos) << c[i].name;
    EXPECT_EQ(all.find("not-the-t0ken"), std::string::npos) << c[i].name;
  }
}

TEST(ClusterSecurity, MutualTlsAdmitsOnlyCertificatesOfTheClusterCa) {
  ClusterHarness c(5);  // n3: certificate from another CA; n4: no TLS at all
  if (!MakeCa(c.dir().path(), "good") || !MakeCa(c.dir().path(), "foreign")) {
    GTEST_SKIP() << "the openssl command is missing or failed";
  }
  for (size_t i = 0; i < 3; ++i) c[i].extra_env = TlsEnv(c.dir().path(), "good");
  c[3].extra_env = TlsEnv(c.dir().path(), "foreign");
  for (size_t i = 0; i < 3; ++i) c.Start(i);
  auto leader = c.WaitForAgreement({0, 1, 2}, kForm);
  ASSERT_TRUE(leader) << c.Diagnostics();
  const auto term = (*c.Health(*leader))["term"];
  c.Start(3);
  c.Start(4);
  // Each outsider tries and fails (its own log says so) ...
  for (size_t i : {3, 4}) {
    ASSERT_TRUE(c[i].process->WaitForStderr(
        [](const std::string& e) { return e.find("cannot open a tunnel to") != std::string::npos; },
        kForm))
        << c[i].process->Stderr();
  }
  // ... and a client without any certificate is refused by the TLS handshake itself
  // (TLS 1.2, where the refusal ends the handshake; under 1.3 the client may finish first).
  const std::string probe =
      "openssl s_client -connect 127.0.0.1:" + std::to_string(c[*leader].raft_port) + " -CAfile " +
      c.dir().path() + "/good-ca.pem -alpn h2 -tls1_2 </dev/null >" + c.dir().File("probe") +
      " 2>&1";
  Sh(probe);
  const std::string probe_out = ReadFile(c.dir().File("probe"));
  EXPECT_TRUE(probe_out.find("alert") != std::string::npos ||
              probe_out.find("unexpected eof") != std::string::npos ||
              probe_out.find("handshake failure") != std::string::npos)
      << probe_out;
  EXPECT_EQ(probe_out.find("Verify return code: 0 (ok)\n---\nDONE"), std::string::npos)
      << probe_out;
  for (size_t i : {3, 4}) {
    auto h = c.Health(i);
    ASSERT_TRUE(h);
    EXPECT_EQ((*h)["state"], "forming") << c[i].name;
    EXPECT_EQ((*h)["cluster_ready"], false) << c[i].name;
  }
  EXPECT_EQ(*c.WaitForAgreement({0, 1, 2}, kForm), *leader);
  EXPECT_EQ((*c.Health(*leader))["term"], term);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(c.Running(i));
  // The members log the failed handshakes once each, not once per retry.
  ASSERT_TRUE(c[*leader].process->WaitForStderr(
      [](const std::string& e) {
        return e.find("certificate verify failed") != std::string::npos &&
               e.find("peer did not return a certificate") != std::string::npos;
      },
      kForm))
      << c[*leader].process->Stderr();
  const std::string err = c[*leader].process->Stderr();
  for (const char* why : {"certificate verify failed", "peer did not return a certificate"}) {
    size_t lines = 0;
    for (size_t at = err.find(why); at != std::string::npos; at = err.find(why, at + 1)) ++lines;
    EXPECT_EQ(lines, 1u) << why << "\n" << err;
  }
}

TEST(ClusterSecurity, GarbageAndHalfOpenConnectionsCostBoundedMemory) {
  ClusterHarness c(3);
  for (size_t i = 0; i < 3; ++i) c.Start(i);
  auto leader = c.WaitForAgreement({0, 1, 2}, kForm);
  ASSERT_TRUE(leader) << c.Diagnostics();
  const auto term = (*c.Health(*leader))["term"];
  const size_t victim = *leader;
  const uint64_t rss_before = RssKib(c[victim].process->pid());
  auto connect_to = [&](uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  };
  // 1 MiB of random bytes.
  std::mt19937_64 rng(12);
  std::string junk(1 << 20, '\0');
  for (auto& ch : junk) ch = static_cast<char>(rng());
  const int g = connect_to(c[victim].raft_port);
  ASSERT_GE(g, 0);
  size_t sent = 0;
  while (sent < junk.size()) {
    const ssize_t n = send(g, junk.data() + sent, junk.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server hung up on the garbage: fine
    sent += static_cast<size_t>(n);
  }
  close(g);
  // 200 half-open connections: connected, then silent.
  std::vector<int> idle;
  for (int i = 0; i < 200; ++i) {
    const int fd = connect_to(c[victim].raft_port);
    if (fd >= 0) idle.push_back(fd);
  }
  EXPECT_EQ(idle.size(), 200u);
  // While they are open, the cluster goes on under the same leader and term.
  for (int round = 0; round < 3; ++round) {
    auto again = c.WaitForAgreement({0, 1, 2}, kForm);
    ASSERT_TRUE(again) << c.Diagnostics();
    EXPECT_EQ(*again, *leader);
  }
  const uint64_t rss_during = RssKib(c[victim].process->pid());
  for (int fd : idle) close(fd);
  EXPECT_TRUE(c.Running(victim));
  EXPECT_EQ((*c.Health(*leader))["term"], term);
  ASSERT_GT(rss_before, 0u);
  EXPECT_LT(rss_during, rss_before + 64 * 1024)
      << "RSS KiB before " << rss_before << ", during " << rss_during;
  printf("leader RSS: %llu KiB before, %llu KiB with 200 idle connections after 1 MiB of junk\n",
         static_cast<unsigned long long>(rss_before), static_cast<unsigned long long>(rss_during));
}

}  // namespace
}  // namespace volley::testing
