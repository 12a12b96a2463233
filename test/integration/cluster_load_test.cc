// Stability under load (issue 12 §8): three nodes, each driving a closed-model load at
// full CPU against its own `volley target`, must keep their leader and term. A
// measurement, not a timed assertion: it runs only with VOLLEY_CLUSTER_LOAD_SECONDS=N and
// prints the worst heartbeat gap seen (each member's max_silence_ms).
#include <gtest/gtest.h>

#include <fstream>

#include "fakes/raw_http.h"
#include "integration/cluster_harness.h"

namespace volley::testing {
namespace {

TEST(ClusterLoad, SaturatedNodesKeepTheirLeaderAndTerm) {
  const char* seconds_text = std::getenv("VOLLEY_CLUSTER_LOAD_SECONDS");
  if (seconds_text == nullptr) GTEST_SKIP() << "set VOLLEY_CLUSTER_LOAD_SECONDS=60 to measure";
  const int seconds = std::atoi(seconds_text);
  ClusterHarness c(3);
  std::vector<std::unique_ptr<Subprocess>> targets;
  std::vector<uint16_t> target_ports;
  for (size_t i = 0; i < 3; ++i) {
    const uint16_t port = FreeLoopbackPort();
    target_ports.push_back(port);
    std::string error;
    targets.push_back(Subprocess::Spawn(
        {VOLLEY_BINARY, "target", "--listen", "127.0.0.1:" + std::to_string(port)}, Env{}, &error));
    ASSERT_NE(targets.back(), nullptr) << error;
    const std::string plan = c.dir().File("plan" + std::to_string(i) + ".yaml");
    std::ofstream(plan) << "version: \"1.0\"\n"
                           "config:\n"
                           "  baseUrl: \"http://127.0.0.1:"
                        << port
                        << "\"\n"
                           "  duration: "
                        << seconds + 30
                        << "s\n"
                           "  workers: 64\n"
                           "load:\n"
                           "  model: concurrent\n"
                           "scenarios:\n"
                           "  - name: Hot\n"
                           "    steps:\n"
                           "      - name: GET /\n"
                           "        request: {method: GET, path: /}\n";
    c[i].args = {plan};
  }
  for (size_t i = 0; i < 3; ++i) c.Start(i);
  auto leader = c.WaitForAgreement({0, 1, 2}, milliseconds(60'000));
  ASSERT_TRUE(leader) << c.Diagnostics();
  const auto start = *c.Health(*leader);
  std::vector<json> before;
  for (size_t i = 0; i < 3; ++i) before.push_back(*c.Health(i));
  const auto until = SteadyClock::now() + std::chrono::seconds(seconds);
  int64_t worst = 0;
  while (SteadyClock::now() < until) {
    std::this_thread::sleep_for(milliseconds(500));  // a sampling period, not a wait
    for (size_t i = 0; i < 3; ++i) {
      auto h = c.Health(i);
      ASSERT_TRUE(h) << "node " << i << " stopped answering\n" << c.Diagnostics();
      EXPECT_EQ((*h)["term"], start["term"]) << c.Diagnostics();
      for (const char* group : {"voters", "standbys"}) {
        for (const auto& m : (*h)[group]) {
          if (m["max_silence_ms"].is_number())
            worst = std::max<int64_t>(worst, m["max_silence_ms"]);
        }
      }
    }
  }
  for (size_t i = 0; i < 3; ++i) {
    auto h = c.Health(i);
    ASSERT_TRUE(h);
    EXPECT_EQ((*h)["elections"], before[i]["elections"]);
    EXPECT_EQ((*h)["leader_id"], start["leader_id"]);
  }
  // The load was real: every target served requests, and how many.
  uint64_t served = 0;
  for (uint16_t port : target_ports) {
    auto res = volley::fakes::Fetch(port, "GET", "/__volley/stats");
    ASSERT_TRUE(res.has_value());
    const uint64_t n = json::parse(res->body)["requests"].get<uint64_t>();
    EXPECT_GT(n, 0u);
    served += n;
  }
  double load = 0;
  std::ifstream("/proc/loadavg") >> load;
  printf(
      "%d s under load (%.0f requests/s in all): term %s throughout, worst heartbeat gap "
      "%lld ms (loadavg %.1f)\n",
      seconds, static_cast<double>(served) / seconds, start["term"].dump().c_str(),
      static_cast<long long>(worst), load);
}

}  // namespace
}  // namespace volley::testing
