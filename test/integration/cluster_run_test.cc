// One test across three `volley node` processes (issue 13, Cluster II). Each node aims at
// its own `volley target` (TARGET_URL in its environment over the one plan), so the targets'
// request counts are the independent truth, per node and in total.
#include <gtest/gtest.h>

#include <fstream>

#include "fakes/raw_http.h"
#include "integration/cluster_harness.h"

namespace volley::testing {
namespace {

struct Reply {
  int status = 0;
  json body;
};

Reply Call(const ClusterMember& m, const std::string& method, const std::string& path,
           const std::string& body = "") {
  http::HttpClient client;
  http::ClientRequest req;
  req.method = method;
  req.url = "http://" + m.host + ":" + std::to_string(m.http_port) + path;
  req.body = body;
  req.timeout = std::chrono::seconds(40);
  auto res = client.Send(req);
  if (!res) return {};
  return Reply{res->status, json::parse(res->body, nullptr, false)};
}

class ClusterRun : public ::testing::Test {
 protected:
  // Three targets and three nodes (not started), node i aimed at target i.
  void SetUp() override {
    for (size_t i = 0; i < 3; ++i) {
      ports_.push_back(FreeLoopbackPort());
      std::string error;
      targets_.push_back(Subprocess::Spawn(
          {VOLLEY_BINARY, "target", "--listen", "127.0.0.1:" + std::to_string(ports_[i])}, Env{},
          &error));
      ASSERT_NE(targets_.back(), nullptr) << error;
      c_[i].extra_env["TARGET_URL"] = "http://127.0.0.1:" + std::to_string(ports_[i]);
    }
    for (size_t i = 0; i < 3; ++i) {
      ASSERT_TRUE(PollUntil([&] { return Served(i).has_value(); }, milliseconds(20'000)));
    }
  }

  std::optional<uint64_t> Served(size_t i) {
    auto res = volley::fakes::Fetch(ports_[i], "GET", "/__volley/stats");
    if (!res || res->status != 200) return std::nullopt;
    auto j = json::parse(res->body, nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j["requests"].get<uint64_t>();
  }

  size_t StartAll() {
    for (size_t i = 0; i < 3; ++i) c_.Start(i);
    auto leader = c_.WaitForAgreement({0, 1, 2}, milliseconds(60'000));
    EXPECT_TRUE(leader) << c_.Diagnostics();
    return leader.value_or(0);
  }

  std::string Plan(const std::string& extra) {
    return "version: \"1.0\"\n"
           "config:\n"
           "  baseUrl: \"http://127.0.0.1:" +
           std::to_string(ports_[0]) + "\"\n" + extra +
           "load:\n"
           "  model: concurrent\n"
           "scenarios:\n"
           "  - name: Get\n"
           "    steps:\n"
           "      - name: GET /\n"
           "        request: {method: GET, path: /}\n";
  }

  // Waits until node `i` reports the run `id` in `phase`.
  bool WaitPhase(size_t i, const std::string& id, const std::string& phase, milliseconds t) {
    return PollUntil(
        [&] {
          auto r = Call(c_[i], "GET", "/cluster/run");
          return r.status == 200 && r.body.is_object() && r.body.value("run_id", "") == id &&
                 r.body.value("phase", "") == phase;
        },
        t, milliseconds(100));
  }

  ClusterHarness c_{3, {{"CLUSTER_START_DELAY", "2000"}, {"CLUSTER_LOST_AFTER", "3000"}}};
  std::vector<uint16_t> ports_;
  std::vector<std::unique_ptr<Subprocess>> targets_;
};

size_t AFollower(size_t leader) { return leader == 0 ? 1 : 0; }

TEST_F(ClusterRun, DivideSplitsARequestBudgetExactlyAndAFollowerTakesThePlan) {
  const size_t leader = StartAll();
  const size_t follower = AFollower(leader);
  auto r = Call(c_[follower], "POST", "/cluster/config",
                Plan("  duration: 120s\n  workers: 10\n  maxRequests: 3000\n"));
  ASSERT_EQ(r.status, 200) << r.body.dump() << c_.Diagnostics();
  const std::string id = r.body["run_id"];
  ASSERT_TRUE(WaitPhase(follower, id, "ended", milliseconds(120'000))) << c_.Diagnostics();
  uint64_t total = 0;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(Served(i).value_or(0), 1000u) << "target of n" << i << "\n" << c_.Diagnostics();
    total += Served(i).value_or(0);
  }
  EXPECT_EQ(total, 3000u);
  // Every node derived the same run from the log: three participants, all done.
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(WaitPhase(i, id, "ended", milliseconds(30'000)));
    auto run = Call(c_[i], "GET", "/cluster/run").body;
    ASSERT_EQ(run["participants"].size(), 3u) << run.dump();
    for (const auto& p : run["participants"]) EXPECT_EQ(p["outcome"], "done") << run.dump();
    if (run.contains("clock_offset")) {
      printf(
          "n%zu: clock offset to the leader %.3f ms +/- %.3f ms; start computed %.1f ms "
          "ahead\n",
          i, run["clock_offset"]["offset_ms"].get<double>(),
          run["clock_offset"]["uncertainty_ms"].get<double>(),
          run["clock_offset"]["start_local_in_ms"].get<double>());
      // The start instant was still ahead when each node mapped it onto its clock.
      EXPECT_GT(run["clock_offset"]["start_local_in_ms"].get<double>(), 0.0);
    }
  }
}

TEST_F(ClusterRun, ABadPlanIsRefusedWithPositionsAndStartsNothing) {
  const size_t leader = StartAll();
  auto r = Call(c_[AFollower(leader)], "POST", "/cluster/config",
                Plan("  duration: 10s\n  workers: -5\n"));
  ASSERT_EQ(r.status, 400) << r.body.dump();
  ASSERT_TRUE(r.body["problems"].is_array()) << r.body.dump();
  ASSERT_FALSE(r.body["problems"].empty());
  EXPECT_NE(r.body["problems"][0].get<std::string>().find("POST /cluster/config:"),
            std::string::npos)
      << r.body.dump();
  for (size_t i = 0; i < 3; ++i) {
    auto run = Call(c_[i], "GET", "/cluster/run");
    EXPECT_EQ(run.status, 200);
    EXPECT_TRUE(run.body["run"].is_null()) << run.body.dump();
    EXPECT_EQ(Served(i).value_or(99), 0u);
  }
}

TEST_F(ClusterRun, AKilledFollowerIsDeclaredLostAndTheRunEnds) {
  const size_t leader = StartAll();
  const size_t victim = AFollower(leader);
  auto r = Call(c_[leader], "POST", "/cluster/config",
                Plan("  duration: 8s\n  workers: 3\n  maxRequests: 0\n"));
  ASSERT_EQ(r.status, 200) << r.body.dump();
  const std::string id = r.body["run_id"];
  ASSERT_TRUE(PollUntil([&] { return Served(victim).value_or(0) > 0; }, milliseconds(30'000)))
      << c_.Diagnostics();
  c_.Kill(victim);
  ASSERT_TRUE(WaitPhase(leader, id, "ended", milliseconds(60'000))) << c_.Diagnostics();
  auto run = Call(c_[leader], "GET", "/cluster/run").body;
  for (const auto& p : run["participants"]) {
    EXPECT_EQ(p["outcome"], p["node_id"] == c_[victim].name ? "lost" : "done") << run.dump();
  }
}

TEST_F(ClusterRun, AFollowerRestartedMidRunDoesNotRunTheTestTwice) {
  const size_t leader = StartAll();
  const size_t victim = AFollower(leader);
  auto r = Call(c_[leader], "POST", "/cluster/config",
                Plan("  duration: 8s\n  workers: 3\n  maxRequests: 0\n"));
  ASSERT_EQ(r.status, 200) << r.body.dump();
  const std::string id = r.body["run_id"];
  ASSERT_TRUE(PollUntil([&] { return Served(victim).value_or(0) > 0; }, milliseconds(30'000)))
      << c_.Diagnostics();
  c_.Kill(victim);
  const uint64_t before = Served(victim).value_or(0);
  c_.Start(victim);
  ASSERT_TRUE(WaitPhase(leader, id, "ended", milliseconds(60'000))) << c_.Diagnostics();
  ASSERT_TRUE(WaitPhase(victim, id, "ended", milliseconds(30'000))) << c_.Diagnostics();
  // The restarted node learned the run from the log and did not start it again.
  EXPECT_EQ(Served(victim).value_or(0), before) << c_.Diagnostics();
  auto run = Call(c_[leader], "GET", "/cluster/run").body;
  for (const auto& p : run["participants"]) {
    EXPECT_EQ(p["outcome"], p["node_id"] == c_[victim].name ? "lost" : "done") << run.dump();
  }
}

// Failover mid-run: the leader dies; the others finish their shares, a new leader ends
// the run from the log (the dead leader declared lost, its share not re-assigned).
TEST_F(ClusterRun, TheLeaderKilledMidRunTheOthersFinishAndANewLeaderEndsTheRun) {
  const size_t leader = StartAll();
  auto r = Call(c_[leader], "POST", "/cluster/config",
                Plan("  duration: 8s\n  workers: 3\n  maxRequests: 0\n"));
  ASSERT_EQ(r.status, 200) << r.body.dump();
  const std::string id = r.body["run_id"];
  ASSERT_TRUE(PollUntil([&] { return Served(leader).value_or(0) > 0; }, milliseconds(30'000)))
      << c_.Diagnostics();
  c_.Kill(leader);
  std::vector<size_t> live;
  std::map<size_t, uint64_t> at_kill;
  for (size_t i = 0; i < 3; ++i) {
    if (i != leader) live.push_back(i), at_kill[i] = Served(i).value_or(0);
  }
  ASSERT_TRUE(c_.WaitForAgreement(live, milliseconds(60'000))) << c_.Diagnostics();
  for (size_t i : live) {
    ASSERT_TRUE(WaitPhase(i, id, "ended", milliseconds(60'000))) << c_.Diagnostics();
  }
  auto run = Call(c_[live[0]], "GET", "/cluster/run").body;
  for (const auto& p : run["participants"]) {
    EXPECT_EQ(p["outcome"], p["node_id"] == c_[leader].name ? "lost" : "done") << run.dump();
  }
  // The survivors went on with their shares: their targets served requests after the kill.
  for (size_t i : live) EXPECT_GT(Served(i).value_or(0), at_kill[i]) << "n" << i;
}

// A stop posted to a follower reaches every participant; the start instant is shared.
TEST_F(ClusterRun, AStopReachesEveryNodeAndTheStartIsShared) {
  const size_t leader = StartAll();
  const size_t follower = AFollower(leader);
  const auto sent = SteadyClock::now();
  auto r = Call(c_[follower], "POST", "/cluster/config",
                Plan("  duration: 120s\n  workers: 3\n  maxRequests: 0\n"));
  ASSERT_EQ(r.status, 200) << r.body.dump();
  const std::string id = r.body["run_id"];
  // When each target first shows a request, polled in a tight loop (its resolution: three
  // GETs, a few ms): the start skew as this machine lets it be seen.
  std::vector<std::optional<SteadyClock::time_point>> first(3);
  ASSERT_TRUE(PollUntil(
      [&] {
        for (size_t i = 0; i < 3; ++i) {
          if (!first[i] && Served(i).value_or(0) > 0) first[i] = SteadyClock::now();
        }
        return first[0] && first[1] && first[2];
      },
      milliseconds(60'000), milliseconds(1)))
      << c_.Diagnostics();
  const auto [lo, hi] = std::minmax({*first[0], *first[1], *first[2]});
  printf("start skew seen at the targets: %.1f ms (first request %.1f ms after the submit)\n",
         std::chrono::duration<double, std::milli>(hi - lo).count(),
         std::chrono::duration<double, std::milli>(lo - sent).count());
  // T = the leader's clock when it committed the start (after `sent`) + 2 s: no node may
  // start before it (offset uncertainty on loopback is well under 100 ms).
  for (size_t i = 0; i < 3; ++i) EXPECT_GE(*first[i] - sent, milliseconds(1900));

  auto stop = Call(c_[follower], "POST", "/cluster/stop");
  ASSERT_EQ(stop.status, 200) << stop.body.dump();
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(WaitPhase(i, id, "ended", milliseconds(60'000))) << c_.Diagnostics();
  }
  auto run = Call(c_[leader], "GET", "/cluster/run").body;
  EXPECT_EQ(run["stop_reason"], "POST /cluster/stop");
  for (const auto& p : run["participants"]) EXPECT_EQ(p["outcome"], "done") << run.dump();
  // The counts no longer move: every node stopped.
  std::vector<uint64_t> after;
  for (size_t i = 0; i < 3; ++i) after.push_back(Served(i).value_or(0));
  Call(c_[follower], "GET", "/cluster/run");  // a round trip later
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(Served(i).value_or(0), after[i]);

  // `volley cluster status` shows the run.
  std::string error;
  auto status = Subprocess::Spawn({VOLLEY_BINARY, "cluster", "status", "--node",
                                   "127.0.0.1:" + std::to_string(c_[follower].http_port)},
                                  Env{}, &error);
  ASSERT_NE(status, nullptr) << error;
  EXPECT_EQ(status->Wait(milliseconds(20'000)).code, 0);
  EXPECT_NE(status->Stdout().find("run " + id + "  phase ended"), std::string::npos)
      << status->Stdout();
}

}  // namespace
}  // namespace volley::testing
