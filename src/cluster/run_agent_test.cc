// RunAgent's timing on a fake wall clock: the minNodes wait and its timeout, the start
// instant, and the lost-after watch, over a fake ClusterNode that commits every proposal at
// once (this node coordinates). The agent's thread ticks on real time (every 200 ms); the
// decisions read only the fake clock, so each test moves the clock and then waits for the
// agent's next ticks (counted by the node's Status calls), never for a duration.
#include "volley/cluster/run_agent.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "volley/config/plan_yaml.h"

namespace volley::cluster {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const Nanos kT0 = seconds(1'800'000'000);  // the fake wall clock's start (Unix)

class FakeNode final : public ClusterNode {
 public:
  explicit FakeNode(ClusterHooks hooks) : hooks_(std::move(hooks)) {}

  void SetContact(const std::string& id, std::optional<milliseconds> contact) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& m : status_.members) {
      if (m.node_id == id) m.last_contact = contact;
    }
  }
  void AddMember(const std::string& id, std::optional<milliseconds> contact) {
    std::lock_guard<std::mutex> lock(mu_);
    MemberStatus m;
    m.node_id = id;
    m.address = id + ":7000";
    m.region = "local";
    m.membership = "voter";
    m.last_contact = contact;
    status_.members.push_back(m);
  }
  // The commands committed so far.
  std::vector<RunCommand> Committed() {
    std::lock_guard<std::mutex> lock(mu_);
    return committed_;
  }
  // Waits (up to 20 s) until `n` more Status calls than now have returned: the agent has
  // ticked past the current fake instant.
  bool WaitTicks(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t target = status_calls_ + n;
    return cv_.wait_for(lock, seconds(20), [&] { return status_calls_ >= target; });
  }
  template <typename T>
  std::optional<T> WaitFor(std::function<bool(const T&)> match = nullptr) {
    std::unique_lock<std::mutex> lock(mu_);
    std::optional<T> found;
    cv_.wait_for(lock, seconds(20), [&] {
      for (const RunCommand& c : committed_) {
        if (const T* t = std::get_if<T>(&c); t && (!match || match(*t))) found = *t;
      }
      return found.has_value();
    });
    return found;
  }

  ClusterStatus Status() const override {
    std::lock_guard<std::mutex> lock(mu_);
    ++status_calls_;
    cv_.notify_all();
    return status_;
  }
  uint16_t port() const override { return 0; }
  void Stop() override {}
  void Propose(uint16_t, std::string, std::function<void(Result<uint64_t>)> done) override {
    done(MakeError(ErrorCode::kIo, "not used"));
  }
  void SetApplyObserver(std::function<void(uint16_t, std::string_view, uint64_t)>) override {}
  Result<std::string> SubmitPlan(const std::string& yaml, const std::string& name,
                                 std::chrono::milliseconds) override {
    return hooks_.submit(yaml, name);
  }
  Result<uint64_t> ProposeOnLeader(uint16_t type, std::string payload,
                                   std::chrono::milliseconds) override {
    uint64_t index;
    {
      std::lock_guard<std::mutex> lock(mu_);
      index = ++index_;
    }
    hooks_.apply(type, payload, index);  // committed and applied at once, as on the leader
    auto command = DecodeRunCommand(payload);
    std::lock_guard<std::mutex> lock(mu_);
    if (command) committed_.push_back(*command);
    cv_.notify_all();
    return index;
  }
  Result<LeaderClockSample> SampleLeaderClock(std::chrono::milliseconds) override {
    return MakeError(ErrorCode::kIo, "no clock samples in this test");
  }
  Result<void> SendMetricsToLeader(std::string_view, std::chrono::milliseconds, bool) override {
    return MakeError(ErrorCode::kIo, "no metrics in this test");
  }
  Result<std::string> LeaderLive(std::chrono::milliseconds) override {
    return MakeError(ErrorCode::kIo, "no live view in this test");
  }

 private:
  ClusterHooks hooks_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  // Guarded by mu_:
  ClusterStatus status_{.node_id = "n0", .coordinator = true};
  mutable uint64_t status_calls_ = 0;
  uint64_t index_ = 0;
  std::vector<RunCommand> committed_;
};

// Records the shares it is asked to start; they never end by themselves.
class FakeExecutor final : public RunExecutor {
 public:
  Result<void> StartShare(config::TestPlan share, Nanos,
                          std::function<void(Result<ShareEnd>)>) override {
    std::lock_guard<std::mutex> lock(mu_);
    shares_.push_back(share.segment);
    return {};
  }
  void StopShare(const std::string&) override {}
  std::optional<metrics::Snapshot> LiveSnapshot(const std::string&) override {
    return std::nullopt;
  }
  std::vector<config::Segment> shares() {
    std::lock_guard<std::mutex> lock(mu_);
    return shares_;
  }

 private:
  std::mutex mu_;
  std::vector<config::Segment> shares_;
};

class RunAgentTiming : public ::testing::Test {
 protected:
  void SetUp() override {
    RunAgentOptions o;
    o.node_id = "n0";
    // Its own directory: every test's run has the same id (the same fake instant), and the
    // start markers live here.
    dir_ = ::testing::TempDir() + "/run_agent_test_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
    o.data_dir = dir_;
    o.parse = [](const std::string& yaml, const std::string& name) {
      return config::ParsePlanYaml(yaml, name);
    };
    o.lost_after = milliseconds(5000);
    o.start_delay = milliseconds(2000);
    o.clock_samples = 1;
    o.wall_clock = &clock_;
    agent_ = RunAgent::Create(std::move(o), executor_);
    node_ = std::make_unique<FakeNode>(agent_->Hooks());
    node_->AddMember("n0", milliseconds(0));
    node_->AddMember("n1", milliseconds(10));
    node_->AddMember("n2", std::nullopt);
    agent_->Attach(*node_);
  }
  void TearDown() override {
    agent_->Detach();
    std::filesystem::remove_all(dir_);
  }

  static std::string Plan(const std::string& cluster) {
    return "version: \"1.0\"\nconfig: {baseUrl: \"http://127.0.0.1:9\", duration: 10s}\n"
           "load: {model: rps, target: 30}\n" +
           cluster;
  }

  std::string dir_;
  FakeClock clock_{kT0};
  FakeExecutor executor_;
  std::unique_ptr<RunAgent> agent_;
  std::unique_ptr<FakeNode> node_;
};

TEST_F(RunAgentTiming, MinNodesWaitsThenStartsAStartDelayAfterTheThirdIsReady) {
  auto id = agent_->Submit(
      Plan("cluster: {minNodes: 3, minNodesTimeout: 10s, startDelay: 1500ms}\n"), "p.yaml");
  ASSERT_TRUE(id) << id.error().message;
  ASSERT_TRUE(node_->WaitTicks(3));
  ASSERT_EQ(node_->Committed().size(), 1u) << "only the submit: n2 is not ready";
  const auto submit = std::get<SubmitRun>(node_->Committed()[0]);
  EXPECT_EQ(submit.submit_unix, kT0);
  EXPECT_EQ(submit.participants, (std::vector<std::string>{"n0", "n1", "n2"}));

  clock_.Advance(seconds(4));
  node_->SetContact("n2", milliseconds(30));
  auto start = node_->WaitFor<StartRun>();
  ASSERT_TRUE(start);
  EXPECT_EQ(start->start_unix, kT0 + seconds(4) + milliseconds(1500)) << "now + startDelay";
  EXPECT_EQ(start->participants, (std::vector<std::string>{"n0", "n1", "n2"}));
  ASSERT_TRUE(node_->WaitTicks(2));
  ASSERT_EQ(executor_.shares().size(), 1u);
  EXPECT_EQ(executor_.shares()[0].index, 0u);
  EXPECT_EQ(executor_.shares()[0].count, 3u);
}

TEST_F(RunAgentTiming, APlannedRunEndsExactlyPastMinNodesTimeout) {
  auto id = agent_->Submit(Plan("cluster: {minNodes: 3, minNodesTimeout: 10s}\n"), "p.yaml");
  ASSERT_TRUE(id) << id.error().message;
  clock_.Advance(seconds(10));  // exactly the timeout: still waiting
  ASSERT_TRUE(node_->WaitTicks(3));
  EXPECT_EQ(node_->Committed().size(), 1u);
  clock_.Advance(milliseconds(1));
  auto stop = node_->WaitFor<StopRun>();
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->reason,
            "not started: cluster.minNodes 3 was not reached within cluster.minNodesTimeout 10s "
            "of the submission; 2 of 3 node(s) ready (n0, n1); nothing ran");
  EXPECT_TRUE(executor_.shares().empty());
  EXPECT_NE(agent_->RunJson().find("\"phase\":\"ended\""), std::string::npos) << agent_->RunJson();
}

TEST_F(RunAgentTiming, AParticipantNeverHeardIsLostOnlyPastLostAfterFromTheStart) {
  node_->SetContact("n2", milliseconds(30));
  auto id = agent_->Submit(Plan(""), "p.yaml");  // all three ready: starts at once
  ASSERT_TRUE(id) << id.error().message;
  auto start = node_->WaitFor<StartRun>();
  ASSERT_TRUE(start);
  EXPECT_EQ(start->start_unix, kT0 + milliseconds(2000)) << "CLUSTER_START_DELAY's default";
  node_->SetContact("n2", std::nullopt);  // no longer heard at all
  clock_.Set(start->start_unix + milliseconds(5000));
  ASSERT_TRUE(node_->WaitTicks(3));
  const std::vector<RunCommand> committed = node_->Committed();
  EXPECT_FALSE(std::any_of(committed.begin(), committed.end(), [](const RunCommand& c) {
    return std::holds_alternative<NodeDone>(c);
  })) << "exactly lost_after: not lost yet";
  clock_.Advance(milliseconds(1));
  auto lost = node_->WaitFor<NodeDone>();
  ASSERT_TRUE(lost);
  EXPECT_EQ(lost->node_id, "n2");
  EXPECT_TRUE(lost->lost);
}

}  // namespace
}  // namespace volley::cluster
