// The plan's `cluster:` section and the rest of issue 13's checks, on `volley node`
// processes over 127.0.0.1. Node i aims at recording server i (TARGET_URL in its
// environment over the one plan), so the servers' counts are the independent truth per node
// and in total, and each server's clock (this process's steady clock) times its node's
// first request.
#include <gtest/gtest.h>

#include <fstream>
#include <mutex>

#include "fakes/recording_server.h"
#include "integration/cluster_run_util.h"

namespace volley::testing {
namespace {

// A recording server that also notes when its first request arrived.
struct Recorder {
  fakes::RecordingServer server;
  std::mutex mu;
  std::optional<SteadyClock::time_point> first;  // guarded by mu

  Recorder() {
    server.On("/", [this](const fakes::RecordedRequest&, fakes::FakeResponse& res) {
      const auto now = SteadyClock::now();
      std::lock_guard<std::mutex> lock(mu);
      if (!first) first = now;
      res.body = "ok";
    });
    server.Start();
  }
  ~Recorder() { server.Stop(); }
  uint64_t count() const { return server.requests().size(); }
  std::optional<SteadyClock::time_point> First() {
    std::lock_guard<std::mutex> lock(mu);
    return first;
  }
};

class ClusterPlan : public ::testing::Test {
 protected:
  // `n` nodes (not started), node i aimed at recorder i; `env` for every node.
  void Make(size_t n, std::map<std::string, std::string> env = {}) {
    env.emplace("CLUSTER_START_DELAY", "2000");
    env.emplace("CLUSTER_LOST_AFTER", "3000");
    c_ = std::make_unique<ClusterHarness>(n, std::move(env));
    for (size_t i = 0; i < n; ++i) {
      rec_.push_back(std::make_unique<Recorder>());
      (*c_)[i].extra_env["TARGET_URL"] = rec_[i]->server.url();
    }
  }

  size_t StartAll(std::vector<size_t> which) {
    for (size_t i : which) c_->Start(i);
    auto leader = c_->WaitForAgreement(which, milliseconds(60'000));
    EXPECT_TRUE(leader) << c_->Diagnostics();
    return leader.value_or(which[0]);
  }

  // A plan with `config_extra` under config:, then `rest` (load, cluster, scenarios...).
  static std::string Plan(const std::string& config_extra, const std::string& rest) {
    return "version: \"1.0\"\nconfig:\n  baseUrl: \"http://127.0.0.1:9\"\n" + config_extra + rest;
  }
  static std::string GetRoot() {
    return "scenarios:\n  - name: Get\n    steps:\n      - request: {method: GET, path: /}\n";
  }

  // Submits on member `i`: the run id (empty, with a failure, when refused).
  std::string Submit(size_t i, const std::string& plan) {
    auto r = Call((*c_)[i], "POST", "/cluster/config", plan);
    EXPECT_EQ(r.status, 200) << r.body.dump() << c_->Diagnostics();
    return r.status == 200 ? r.body.value("run_id", "") : "";
  }

  std::vector<std::string> Participants(const json& run) {
    std::vector<std::string> out;
    for (const auto& p : run.value("participants", json::array())) out.push_back(p["node_id"]);
    return out;
  }

  std::unique_ptr<ClusterHarness> c_;
  std::vector<std::unique_ptr<Recorder>> rec_;
};

size_t AFollower(size_t leader) { return leader == 0 ? 1 : 0; }

// Open model 300/s for 10 s, divided over 3 nodes: 3000 arrivals (± 1 %), each node 1000
// (± 1 %); and the start skew: each node's first request, timed by its server.
TEST_F(ClusterPlan, AnOpenModelIsDividedAndTheNodesStartTogether) {
  Make(3);
  const size_t leader = StartAll({0, 1, 2});
  const std::string id = Submit(
      AFollower(leader),
      Plan("  duration: 10s\n  workers: 6\n", "load: {model: rps, target: 300}\n" + GetRoot()));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitPhase((*c_)[leader], id, "ended", milliseconds(90'000))) << c_->Diagnostics();
  uint64_t total = 0;
  for (size_t i = 0; i < 3; ++i) {
    const uint64_t n = rec_[i]->count();
    printf("n%zu: %llu arrivals\n", i, static_cast<unsigned long long>(n));
    EXPECT_GE(n, 990u) << "n" << i << c_->Diagnostics();
    EXPECT_LE(n, 1010u) << "n" << i;
    total += n;
  }
  EXPECT_GE(total, 2970u);
  EXPECT_LE(total, 3030u);
  std::vector<SteadyClock::time_point> first;
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(rec_[i]->First()) << "n" << i;
    first.push_back(*rec_[i]->First());
  }
  const auto [lo, hi] = std::minmax_element(first.begin(), first.end());
  const double skew = std::chrono::duration<double, std::milli>(*hi - *lo).count();
  printf("start skew (first request of each node, timed by its server): %.2f ms\n", skew);
  EXPECT_LT(skew, 50.0);
}

// Sequential data rows are partitioned: each of the 90 rows is sent exactly once in the
// whole cluster, 30 by each node.
TEST_F(ClusterPlan, ASequentialDataFileIsUsedOnceAcrossTheCluster) {
  Make(3);
  const std::string csv = c_->dir().File("rows.csv");
  {
    std::ofstream out(csv);
    out << "id\n";
    for (int r = 0; r < 90; ++r) out << "row" << r << "\n";
  }
  const size_t leader = StartAll({0, 1, 2});
  const std::string id =
      Submit(leader, Plan("  duration: 60s\n  workers: 3\n",
                          "scenarios:\n  - name: Rows\n    dataFile: {path: \"" + csv +
                              "\", strategy: sequential}\n"
                              "    steps: [{request: {path: \"/item/${id}\"}}]\n"));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitPhase((*c_)[leader], id, "ended", milliseconds(90'000))) << c_->Diagnostics();
  std::map<std::string, int> seen;
  for (size_t i = 0; i < 3; ++i) {
    const auto requests = rec_[i]->server.requests();
    EXPECT_EQ(requests.size(), 30u) << "n" << i;
    for (const auto& r : requests) ++seen[r.path];
  }
  EXPECT_EQ(seen.size(), 90u);
  for (int r = 0; r < 90; ++r) {
    EXPECT_EQ(seen["/item/row" + std::to_string(r)], 1) << "row " << r;
  }
}

// `replicate` (from the plan, over the nodes' default `divide`): each node sends the whole
// plan. Then a subset by region: only those nodes take part and share the plan; a subset
// that matches nobody is refused and starts nothing.
TEST_F(ClusterPlan, ReplicateAndASubsetOfNodesByRegion) {
  Make(3);
  (*c_)[0].extra_env["CLUSTER_REGION"] = "eu";
  (*c_)[1].extra_env["CLUSTER_REGION"] = "us";
  (*c_)[2].extra_env["CLUSTER_REGION"] = "us";
  const size_t leader = StartAll({0, 1, 2});
  std::string id =
      Submit(AFollower(leader), Plan("  duration: 60s\n  workers: 3\n  maxRequests: 300\n",
                                     "cluster: {distribution: replicate}\n" + GetRoot()));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitPhase((*c_)[leader], id, "ended", milliseconds(90'000))) << c_->Diagnostics();
  EXPECT_EQ(RunOf((*c_)[leader], id)["distribution"], "replicate");
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(rec_[i]->count(), 300u) << "n" << i;

  auto refused = Call((*c_)[leader], "POST", "/cluster/config",
                      Plan("  duration: 60s\n  maxRequests: 300\n",
                           "cluster:\n  nodes: {regions: [ap-south]}\n" + GetRoot()));
  ASSERT_EQ(refused.status, 400) << refused.body.dump();
  EXPECT_NE(refused.body.dump().find("cluster.nodes: matches no member that may take part "
                                     "(regions [ap-south], ids [none]); members: n0 (region eu)"),
            std::string::npos)
      << refused.body.dump();
  EXPECT_EQ(RunOf((*c_)[leader], id).value("phase", ""), "ended") << "still the last run";

  id = Submit(leader, Plan("  duration: 60s\n  workers: 4\n  maxRequests: 200\n",
                           "cluster:\n  nodes: {regions: [us]}\n" + GetRoot()));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitPhase((*c_)[leader], id, "ended", milliseconds(90'000))) << c_->Diagnostics();
  EXPECT_EQ(Participants(RunOf((*c_)[leader], id)), (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(rec_[0]->count(), 300u) << "n0 is not in us";
  EXPECT_EQ(rec_[1]->count(), 400u);
  EXPECT_EQ(rec_[2]->count(), 400u);
}

// minNodes 3 on a 2-node cluster: past minNodesTimeout the run ends unstarted with the
// reason; a second run waits, planned, and starts once the third node joins.
TEST_F(ClusterPlan, MinNodesWaitsForTheThirdNodeOrEndsAtItsTimeout) {
  Make(3);
  const size_t leader = StartAll({0, 1});
  std::string id =
      Submit(AFollower(leader), Plan("  duration: 60s\n  workers: 3\n  maxRequests: 300\n",
                                     "cluster: {minNodes: 3, minNodesTimeout: 1s}\n" + GetRoot()));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitPhase((*c_)[leader], id, "ended", milliseconds(30'000))) << c_->Diagnostics();
  json run = RunOf((*c_)[leader], id);
  EXPECT_EQ(run.value("stop_reason", ""),
            "not started: cluster.minNodes 3 was not reached within cluster.minNodesTimeout 1s "
            "of the submission; 2 of 3 node(s) ready (n0, n1); nothing ran")
      << run.dump();
  EXPECT_FALSE(run.contains("start_unix_ms")) << run.dump();
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(rec_[i]->count(), 0u);

  id = Submit(leader, Plan("  duration: 60s\n  workers: 3\n  maxRequests: 300\n",
                           "cluster: {minNodes: 3, minNodesTimeout: 120s}\n" + GetRoot()));
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(PollUntil([&] { return !(run = RunOf((*c_)[AFollower(leader)], id)).empty(); },
                        milliseconds(10'000)));
  EXPECT_EQ(run["phase"], "planned") << run.dump();
  for (const auto& p : run["participants"]) EXPECT_EQ(p["outcome"], "planned") << run.dump();
  c_->Start(2);
  ASSERT_TRUE(WaitPhase((*c_)[2], id, "ended", milliseconds(90'000))) << c_->Diagnostics();
  run = RunOf((*c_)[2], id);
  EXPECT_EQ(Participants(run), (std::vector<std::string>{"n0", "n1", "n2"})) << run.dump();
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(rec_[i]->count(), 100u) << "n" << i;
}

// The coordinator dies while a run is planned (it waits for minNodes): the next
// coordinator takes the planned run from the log and starts it once its nodes are ready.
TEST_F(ClusterPlan, APlannedRunOutlivesItsCoordinator) {
  Make(5);
  const size_t leader = StartAll({0, 1, 2, 3});
  const std::string id =
      Submit(leader, Plan("  duration: 60s\n  workers: 5\n  maxRequests: 500\n",
                          "cluster: {minNodes: 5, minNodesTimeout: 120s}\n" + GetRoot()));
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(RunOf((*c_)[leader], id).value("phase", ""), "planned");
  c_->Kill(leader);
  std::vector<size_t> live;
  for (size_t i = 0; i < 4; ++i) {
    if (i != leader) live.push_back(i);
  }
  ASSERT_TRUE(c_->WaitForAgreement(live, milliseconds(60'000))) << c_->Diagnostics();
  EXPECT_EQ(RunOf((*c_)[live[0]], id).value("phase", ""), "planned");
  c_->Start(4);
  c_->Start(leader);  // the old coordinator comes back: it never started this run
  ASSERT_TRUE(WaitPhase((*c_)[live[0]], id, "ended", milliseconds(90'000))) << c_->Diagnostics();
  const json run = RunOf((*c_)[live[0]], id);
  EXPECT_EQ(run["participants"].size(), 5u) << run.dump();
  for (const auto& p : run["participants"]) EXPECT_EQ(p["outcome"], "done") << run.dump();
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(rec_[i]->count(), 100u) << "n" << i;
}

// The run settings of the environment are checked with the node's other options: a bad one
// is a configuration error (exit 2) before any port opens.
TEST(ClusterPlanEnv, BadRunSettingsExitTwoBeforeAnyPortOpens) {
  TempDir dir;
  const uint16_t port = FreeLoopbackPort();
  Env env;
  env.set = {{"CLUSTER_ENABLED", "true"},
             {"CLUSTER_BIND_ADDR", "127.0.0.1:" + std::to_string(port)},
             {"CLUSTER_NODES", "127.0.0.1:" + std::to_string(port)},
             {"CLUSTER_DATA_DIR", dir.File("data")},
             {"CLUSTER_START_DELAY", "soon"},
             {"CLUSTER_LOST_AFTER", "0"}};
  std::string error;
  auto node =
      Subprocess::Spawn({VOLLEY_BINARY, "node", "--listen",
                         "127.0.0.1:" + std::to_string(FreeLoopbackPort()), "--metrics-addr", ""},
                        env, &error);
  ASSERT_NE(node, nullptr) << error;
  EXPECT_EQ(node->Wait(milliseconds(20'000)).code, 2);
  EXPECT_NE(node->Stderr().find(
                "CLUSTER_START_DELAY: expected a duration such as 2000 (ms) or 2s, got 'soon'"),
            std::string::npos)
      << node->Stderr();
  EXPECT_NE(node->Stderr().find("CLUSTER_LOST_AFTER: must be between 1ms and 1h, got '0'"),
            std::string::npos)
      << node->Stderr();
  EXPECT_FALSE(std::filesystem::exists(dir.File("data"))) << "nothing was created";
}

}  // namespace
}  // namespace volley::testing
