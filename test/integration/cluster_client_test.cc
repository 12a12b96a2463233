// `volley run --cluster` against three `volley node` processes (issues 13 and 14): the thin
// client's exit codes, its failover to the next address, Ctrl-C, and the final report
// (GET /cluster/report) checked against independent counts: node i aims at its own
// `volley target` i, so target i's count is what node i sent.
#include <gtest/gtest.h>

#include <fstream>

#include "fakes/raw_http.h"
#include "integration/cluster_harness.h"

namespace volley::testing {
namespace {

constexpr size_t kNodes = 3;

size_t AFollowerOf(size_t leader) { return leader == 0 ? 1 : 0; }

class ClusterClient : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    for (size_t i = 0; i < kNodes; ++i) {
      target_ports_.push_back(FreeLoopbackPort());
      const std::string listen = "127.0.0.1:" + std::to_string(target_ports_.back());
      targets_.push_back(
          Subprocess::Spawn({VOLLEY_BINARY, "target", "--listen", listen}, Env{}, &error));
      ASSERT_NE(targets_.back(), nullptr) << error;
      nodes_[i].extra_env["TARGET_URL"] = "http://" + listen;
    }
    nodes_[2].extra_env["CLUSTER_REGION"] = "eu";
    for (size_t i = 0; i < kNodes; ++i) {
      ASSERT_TRUE(PollUntil([&] { return Served(i).has_value(); }, milliseconds(20'000)));
    }
    for (size_t i = 0; i < kNodes; ++i) nodes_.Start(i);
    auto leader = nodes_.WaitForAgreement({0, 1, 2}, milliseconds(60'000));
    ASSERT_TRUE(leader) << nodes_.Diagnostics();
    leader_ = *leader;
  }

  // What target `i` served so far; nullopt while it does not answer.
  std::optional<uint64_t> Served(size_t i) {
    auto res = volley::fakes::Fetch(target_ports_[i], "GET", "/__volley/stats");
    if (!res || res->status != 200) return std::nullopt;
    auto j = json::parse(res->body, nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j["requests"].get<uint64_t>();
  }

  std::string Address(size_t i) { return "127.0.0.1:" + std::to_string(nodes_[i].http_port); }

  // Writes the plan (one GET / scenario; `config_lines` under config:, `tail` after the
  // scenarios) and returns its path.
  std::string PlanFile(const std::string& config_lines, const std::string& tail = "") {
    const std::string path = nodes_.dir().File("plan-" + std::to_string(plans_++) + ".yaml");
    std::ofstream(path) << "version: \"1.0\"\nconfig:\n  baseUrl: \"http://127.0.0.1:"
                        << target_ports_[0] << "\"\n"
                        << config_lines
                        << "load:\n  model: concurrent\nscenarios:\n  - name: Get\n    steps:\n"
                           "      - name: GET /\n        request: {method: GET, path: /}\n"
                        << tail;
    return path;
  }

  // Starts `volley run --cluster <addresses> plan --summary-export ...`.
  std::unique_ptr<Subprocess> Client(const std::vector<size_t>& via, const std::string& plan) {
    std::string list;
    for (size_t i : via) list += (list.empty() ? "" : ",") + Address(i);
    std::string error;
    auto p = Subprocess::Spawn({VOLLEY_BINARY, "run", "--cluster", list, plan, "--summary-export",
                                SummaryPath(), "--cluster-timeout", "20s"},
                               Env{}, &error);
    EXPECT_NE(p, nullptr) << error;
    return p;
  }

  std::string SummaryPath() { return nodes_.dir().File("summary.json"); }
  json Summary() { return json::parse(ReadFile(SummaryPath()), nullptr, false); }

  std::string Diagnostics(Subprocess& client) {
    return client.Diagnostics() + "\n" + nodes_.Diagnostics();
  }

  // The summary's node entry of member `i`.
  json NodeOf(const json& summary, size_t i) {
    for (const auto& n : summary["nodes"]) {
      if (n["node_id"] == nodes_[i].name) return n;
    }
    return json();
  }

  ClusterHarness nodes_{kNodes, {{"CLUSTER_START_DELAY", "2000"}, {"CLUSTER_LOST_AFTER", "3000"}}};
  size_t leader_ = 0;
  std::vector<uint16_t> target_ports_;
  std::vector<std::unique_ptr<Subprocess>> targets_;
  int plans_ = 0;
};

TEST_F(ClusterClient, ARunPrintsTheMergedReportWhoseTotalsAreTheTargetsAndExits0) {
  auto client =
      Client({0, 1, 2}, PlanFile("  duration: 120s\n  workers: 10\n  maxRequests: 3000\n"));
  ASSERT_NE(client, nullptr);
  const ExitStatus exit = client->Wait(milliseconds(150'000));
  ASSERT_TRUE(exit.Exited(0)) << exit.Describe() << Diagnostics(*client);
  const std::string out = client->Stdout();
  EXPECT_NE(out.find("cluster run run-"), std::string::npos) << out;
  EXPECT_NE(out.find("Per region:"), std::string::npos) << out;
  EXPECT_NE(out.find("Per node:"), std::string::npos) << out;
  EXPECT_EQ(out.find("PARTIAL"), std::string::npos) << out;
  const json s = Summary();
  ASSERT_TRUE(s.is_object()) << ReadFile(SummaryPath());
  uint64_t served = 0;
  for (size_t i = 0; i < kNodes; ++i) {
    served += Served(i).value_or(0);
    EXPECT_EQ(NodeOf(s, i)["requests"], Served(i).value_or(0)) << "n" << i << "\n" << s.dump();
    printf("n%zu: %llu requests, final snapshot %llu bytes in the log\n", i,
           static_cast<unsigned long long>(Served(i).value_or(0)),
           static_cast<unsigned long long>(NodeOf(s, i)["checkpoint_bytes"].get<uint64_t>()));
  }
  EXPECT_EQ(served, 3000u);
  EXPECT_EQ(s["requests_total"], 3000u) << s.dump();
  EXPECT_FALSE(s["partial"].get<bool>());
  // Two regions: n0 and n1 in "local", n2 in "eu", each with its targets' counts.
  ASSERT_EQ(s["regions"].size(), 2u) << s.dump();
  for (const auto& r : s["regions"]) {
    const uint64_t want =
        r["region"] == "eu" ? Served(2).value_or(0) : Served(0).value_or(0) + Served(1).value_or(0);
    EXPECT_EQ(r["requests"], want) << r.dump();
  }
  // The coordinator printed the same report on its stdout.
  EXPECT_TRUE(PollUntil(
      [&] {
        return nodes_[leader_].process->Stdout().find("cluster report run-") != std::string::npos;
      },
      milliseconds(20'000)))
      << nodes_[leader_].process->Stdout();
  EXPECT_NE(nodes_[leader_].process->Stdout().find("(exit code 0)"), std::string::npos);
  // Every node answers the same report from its log.
  for (size_t i = 0; i < kNodes; ++i) {
    auto res = volley::fakes::Fetch(nodes_[i].http_port, "GET", "/cluster/report");
    ASSERT_TRUE(res && res->status == 200) << "n" << i;
    auto j = json::parse(res->body, nullptr, false);
    EXPECT_EQ(j["summary"]["requests_total"], 3000u);
    EXPECT_EQ(j["exit_code"], 0);
  }
}

TEST_F(ClusterClient, AFailingRegionThresholdExits99) {
  // eu (n2) sends about a third of 300 requests: count<10 fails there, count<1000 passes
  // globally.
  auto client = Client({leader_}, PlanFile("  duration: 60s\n  workers: 3\n  maxRequests: 300\n",
                                           "thresholds:\n"
                                           "  'http_reqs{region:eu}': [\"count<10\"]\n"
                                           "  http_reqs: [\"count<1000\"]\n"));
  ASSERT_NE(client, nullptr);
  const ExitStatus exit = client->Wait(milliseconds(120'000));
  ASSERT_TRUE(exit.Exited(99)) << exit.Describe() << Diagnostics(*client);
  const json s = Summary();
  ASSERT_EQ(s["thresholds"].size(), 2u) << s.dump();
  for (const auto& t : s["thresholds"]) {
    const bool eu = t["metric"] == "http_reqs{region:eu}";
    EXPECT_EQ(t["passed"].get<bool>(), !eu) << t.dump();
    EXPECT_DOUBLE_EQ(t["observed"].get<double>(),
                     static_cast<double>(eu ? Served(2).value_or(0) : 300));
  }
  EXPECT_NE(client->Stdout().find("FAIL"), std::string::npos) << client->Stdout();
}

TEST_F(ClusterClient, ABadPlanExits2WithItsPositionedProblemsAndStartsNothing) {
  auto client = Client({0, 1}, PlanFile("  duration: 10s\n  workers: -5\n"));
  ASSERT_NE(client, nullptr);
  const ExitStatus exit = client->Wait(milliseconds(60'000));
  ASSERT_TRUE(exit.Exited(2)) << exit.Describe() << Diagnostics(*client);
  EXPECT_NE(client->Stderr().find("refused the plan; nothing started"), std::string::npos)
      << client->Stderr();
  // The positions name the client's plan file (sent as X-Volley-Plan-Name).
  EXPECT_NE(client->Stderr().find("  " + nodes_.dir().File("plan-0.yaml") + ":5:"),
            std::string::npos)
      << client->Stderr();
  for (size_t i = 0; i < kNodes; ++i) {
    auto res = volley::fakes::Fetch(nodes_[i].http_port, "GET", "/cluster/run");
    ASSERT_TRUE(res && res->status == 200);
    EXPECT_TRUE(json::parse(res->body)["run"].is_null()) << res->body;
    EXPECT_EQ(Served(i).value_or(99), 0u);
    res = volley::fakes::Fetch(nodes_[i].http_port, "GET", "/cluster/report");
    ASSERT_TRUE(res.has_value());
    EXPECT_EQ(res->status, 404) << res->body;
  }
}

// The client talks to the leader first; the leader dies mid-run: the client moves to the
// next address, a new leader ends the run, and the report counts exactly what the
// survivors' targets served plus the dead node's last committed snapshot (none on a branch
// without the metrics stream's checkpoints: then it counts nothing), and says partial.
TEST_F(ClusterClient, TheLeaderKilledMidRunTheClientMovesOnAndTheReportIsExactAndPartial) {
  std::vector<size_t> via = {leader_};
  for (size_t i = 0; i < kNodes; ++i) {
    if (i != leader_) via.push_back(i);
  }
  auto client = Client(via, PlanFile("  duration: 8s\n  workers: 3\n  maxRequests: 0\n"));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(PollUntil([&] { return Served(leader_).value_or(0) > 0; }, milliseconds(30'000)))
      << Diagnostics(*client);
  nodes_.Kill(leader_);
  const ExitStatus exit = client->Wait(milliseconds(120'000));
  ASSERT_TRUE(exit.Exited(0)) << exit.Describe() << Diagnostics(*client);
  EXPECT_NE(client->Stderr().find(Address(leader_) + " does not answer"), std::string::npos)
      << client->Stderr();
  const json s = Summary();
  ASSERT_TRUE(s.is_object());
  uint64_t want = 0;
  for (size_t i = 0; i < kNodes; ++i) {
    const json n = NodeOf(s, i);
    if (i == leader_) {
      const uint64_t counted = n["requests"].get<uint64_t>();
      if (n["snapshot"].get<bool>()) {
        EXPECT_EQ(n["outcome"], "lost") << n.dump();
        EXPECT_LE(counted, Served(i).value_or(0)) << "a snapshot sent before it died";
      } else {
        EXPECT_EQ(n["outcome"], "lost (no snapshot)") << n.dump();
        EXPECT_EQ(counted, 0u);
      }
      want += counted;
      continue;
    }
    EXPECT_EQ(n["outcome"], "done") << n.dump();
    EXPECT_EQ(n["requests"], Served(i).value_or(0)) << n.dump();
    EXPECT_GT(Served(i).value_or(0), 0u);
    want += Served(i).value_or(0);
  }
  EXPECT_EQ(s["requests_total"], want) << s.dump();
  EXPECT_TRUE(s["partial"].get<bool>());
  EXPECT_EQ(s["lost_nodes"], json::array({nodes_[leader_].name}));
  EXPECT_NE(client->Stdout().find("PARTIAL RESULT: 1 of 3 nodes were lost or not measured"),
            std::string::npos)
      << client->Stdout();
}

// Ctrl-C on the client stops every node's share (POST /cluster/stop), the report still
// comes, and the exit code is 130; each node's final count is its target's (it stopped).
TEST_F(ClusterClient, CtrlCStopsEveryNodeAndExits130AfterTheReport) {
  auto client = Client({AFollowerOf(leader_)},
                       PlanFile("  duration: 120s\n  workers: 3\n  maxRequests: 0\n"));
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(PollUntil(
      [&] {
        for (size_t i = 0; i < kNodes; ++i) {
          if (Served(i).value_or(0) == 0) return false;
        }
        return true;
      },
      milliseconds(30'000)))
      << Diagnostics(*client);
  client->Signal(SIGINT);
  const ExitStatus exit = client->Wait(milliseconds(60'000));
  ASSERT_TRUE(exit.Exited(130)) << exit.Describe() << Diagnostics(*client);
  EXPECT_NE(client->Stdout().find("stopped (POST /cluster/stop)"), std::string::npos)
      << client->Stdout();
  const json s = Summary();
  ASSERT_TRUE(s.is_object());
  uint64_t served = 0;
  for (size_t i = 0; i < kNodes; ++i) {
    EXPECT_EQ(NodeOf(s, i)["outcome"], "done");
    EXPECT_EQ(NodeOf(s, i)["requests"], Served(i).value_or(0)) << "n" << i;
    served += Served(i).value_or(0);
  }
  EXPECT_EQ(s["requests_total"], served);
  EXPECT_TRUE(s["interrupted"].get<bool>());
}

// No node answers: the client gives up after --cluster-timeout with exit 1.
TEST(ClusterClientAlone, NoReachableNodeExits1AfterTheTimeout) {
  TempDir dir;
  const std::string plan = dir.File("plan.yaml");
  std::ofstream(plan) << "version: \"1.0\"\nconfig:\n  baseUrl: \"http://127.0.0.1:9\"\n";
  std::string error;
  auto client = Subprocess::Spawn(
      {VOLLEY_BINARY, "run", "--cluster", "127.0.0.1:" + std::to_string(FreeLoopbackPort()), plan,
       "--cluster-timeout", "1s"},
      Env{}, &error);
  ASSERT_NE(client, nullptr) << error;
  const ExitStatus exit = client->Wait(milliseconds(30'000));
  ASSERT_TRUE(exit.Exited(1)) << exit.Describe() << client->Diagnostics();
  EXPECT_NE(client->Stderr().find("no node of --cluster took the plan"), std::string::npos)
      << client->Stderr();
}

}  // namespace
}  // namespace volley::testing
