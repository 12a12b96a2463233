// Three ClusterNodes in one process over 127.0.0.1: formation, gating, Propose/observe.
#include "volley/cluster/cluster_node.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "handshake.h"
#include "membership.h"
#include "volley/v1/node.grpc.pb.h"

namespace volley::cluster {
namespace {

using namespace std::chrono_literals;

uint16_t FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

class ClusterNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/volley_cluster_node_test.XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
    for (int i = 0; i < 3; ++i) addrs_.push_back("127.0.0.1:" + std::to_string(FreePort()));
  }
  void TearDown() override {
    for (auto& n : nodes_) {
      if (n) n->Stop();
    }
    nodes_.clear();
    std::filesystem::remove_all(dir_);
  }
  ClusterOptions Options(int i) {
    ClusterOptions o;
    o.node_id = "n" + std::to_string(i);
    o.region = i == 0 ? "eu" : "us";
    o.bind_addr = addrs_[i];
    o.nodes = addrs_;
    o.data_dir = dir_ + "/n" + std::to_string(i);
    o.election_timeout = 300ms;
    o.heartbeat_interval = 30ms;
    return o;
  }
  std::string dir_;
  std::vector<std::string> addrs_;
  std::vector<std::unique_ptr<ClusterNode>> nodes_;
};

TEST_F(ClusterNodeTest, ThreeNodesElectOneCoordinatorAndAgree) {
  for (int i = 0; i < 3; ++i) {
    auto n = ClusterNode::Start(Options(i));
    ASSERT_TRUE(n) << n.error().message;
    nodes_.push_back(std::move(*n));
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        int leaders = 0, ready = 0;
        for (auto& n : nodes_) {
          auto s = n->Status();
          leaders += s.state == Role::kLeader;
          ready += s.cluster_ready;
        }
        return leaders == 1 && ready == 3;
      },
      30s));
  std::vector<ClusterStatus> s;
  for (auto& n : nodes_) s.push_back(n->Status());
  for (auto& x : s) {
    EXPECT_EQ(x.leader_id, s[0].leader_id);
    EXPECT_EQ(x.term, s[0].term);
    EXPECT_EQ(x.peers, 3u);
    EXPECT_EQ(x.members.size(), 3u);
    EXPECT_EQ(x.coordinator, x.state == Role::kLeader);
  }
  // Names travel in the log: every node names every member, with its region.
  ASSERT_TRUE(WaitFor(
      [&] {
        for (auto& n : nodes_) {
          for (auto& m : n->Status().members) {
            if (m.node_id.rfind("n", 0) != 0 || m.region.empty()) return false;
          }
        }
        return true;
      },
      30s));
  const std::string json = ClusterHealthJson(nodes_[0]->Status());
  EXPECT_NE(json.find("\"cluster_ready\":true"), std::string::npos) << json;
  EXPECT_NE(json.find("\"peers\":3"), std::string::npos) << json;
}

TEST_F(ClusterNodeTest, OnlyTheCoordinatorProposesAndEveryNodeAppliesInOrder) {
  std::mutex mu;
  std::vector<std::vector<std::string>> seen(3);
  for (int i = 0; i < 3; ++i) {
    auto n = ClusterNode::Start(Options(i));
    ASSERT_TRUE(n) << n.error().message;
    (*n)->SetApplyObserver([&mu, &seen, i](uint16_t type, std::string_view p, uint64_t) {
      std::lock_guard<std::mutex> lock(mu);
      seen[i].push_back(std::to_string(type) + ":" + std::string(p));
    });
    nodes_.push_back(std::move(*n));
  }
  ClusterNode* leader = nullptr;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (auto& n : nodes_) {
          if (n->Status().coordinator) leader = n.get();
        }
        return leader != nullptr;
      },
      30s));
  ClusterNode* follower = leader == nodes_[0].get() ? nodes_[1].get() : nodes_[0].get();
  std::atomic<int> refused{0}, committed{0};
  follower->Propose(300, "x", [&](Result<uint64_t> r) { refused += !r; });
  // Odd lengths on purpose: 1..12 bytes, padded to 8 inside.
  const std::vector<std::string> payloads = {"a", "hello-from-3", "abcdefg", "12345678"};
  for (const auto& p : payloads) {
    leader->Propose(300, p, [&](Result<uint64_t> r) { committed += r.has_value(); });
  }
  ASSERT_TRUE(WaitFor([&] { return refused == 1 && committed == 4; }, 30s));
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        for (auto& s : seen) {
          if (s.size() != 4) return false;
        }
        return true;
      },
      30s));
  std::lock_guard<std::mutex> lock(mu);
  for (auto& s : seen) {
    EXPECT_EQ(
        s, (std::vector<std::string>{"300:a", "300:hello-from-3", "300:abcdefg", "300:12345678"}));
  }
}

// A caller of another protocol version, speaking gRPC directly: refused with a status
// that names both versions, counted, and the node keeps running.
TEST_F(ClusterNodeTest, VersionSkewIsRefusedNamingBothVersions) {
  auto n = ClusterNode::Start(Options(0));
  ASSERT_TRUE(n) << n.error().message;
  nodes_.push_back(std::move(*n));
  auto stub = v1::Node::NewStub(grpc::CreateChannel(addrs_[0], grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  auto stream = stub->RaftTunnel(&ctx);
  v1::TunnelFrame hello;
  auto* h = hello.mutable_hello();
  h->set_protocol_version(2);
  h->set_software_version("volley 0.2.0");
  h->set_node_id("future");
  h->set_address(addrs_[1]);
  h->set_raft_id(RaftIdFor(addrs_[1]));
  ASSERT_TRUE(stream->Write(hello));
  v1::TunnelFrame answer;
  EXPECT_FALSE(stream->Read(&answer));
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("volley 0.2.0) speaks node protocol v2"), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("speaks v1"), std::string::npos);
  // Status() is refreshed by Raft's poll: wait for the count to show.
  EXPECT_TRUE(WaitFor([&] { return nodes_[0]->Status().refused_peers == 1; }, 10s));
}

// A caller that opens a tunnel and never says hello is cut off after the handshake (10 s)
// timeout instead of holding a server thread forever.
TEST_F(ClusterNodeTest, SilentCallerIsCutOffAtTheHandshakeTimeout) {
  auto n = ClusterNode::Start(Options(0));
  ASSERT_TRUE(n) << n.error().message;
  nodes_.push_back(std::move(*n));
  auto stub = v1::Node::NewStub(grpc::CreateChannel(addrs_[0], grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  auto stream = stub->RaftTunnel(&ctx);
  v1::TunnelFrame answer;
  EXPECT_FALSE(stream->Read(&answer));  // returns once the node gives up on us
  const grpc::Status status = stream->Finish();
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(nodes_[0]->Status().refused_peers, 0u);
}

}  // namespace
}  // namespace volley::cluster

namespace volley::cluster {
namespace {

// What one node's hooks saw (written on its Raft and gRPC threads).
struct HookLog {
  std::mutex mu;
  uint64_t applied = 0;
  int snapshots = 0;
  std::vector<std::string> restored;
  std::vector<std::string> submitted;
};

ClusterHooks HooksFor(const std::string& name, HookLog& log) {
  ClusterHooks h;
  h.apply = [&log](uint16_t, std::string_view, uint64_t) {
    std::lock_guard<std::mutex> lock(log.mu);
    ++log.applied;
  };
  h.snapshot = [&log, name] {
    std::lock_guard<std::mutex> lock(log.mu);
    ++log.snapshots;
    return "state of " + name + " after " + std::to_string(log.applied);
  };
  h.restore = [&log](std::string_view bytes) {
    std::lock_guard<std::mutex> lock(log.mu);
    log.restored.emplace_back(bytes);
  };
  h.submit = [&log, name](const std::string& yaml, const std::string&) -> Result<std::string> {
    std::lock_guard<std::mutex> lock(log.mu);
    log.submitted.push_back(yaml);
    if (yaml == "bad") return MakeError(ErrorCode::kInvalidArgument, "plan:1:1: bad plan");
    return "run-from-" + name;
  };
  return h;
}

TEST_F(ClusterNodeTest, UserStateRidesInSnapshotsAndFollowersReachTheCoordinator) {
  HookLog logs[3];
  for (int i = 0; i < 3; ++i) {
    auto n = ClusterNode::Start(Options(i), HooksFor("n" + std::to_string(i), logs[i]));
    ASSERT_TRUE(n) << n.error().message;
    nodes_.push_back(std::move(*n));
  }
  int leader = -1;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (int i = 0; i < 3; ++i) {
          if (nodes_[i]->Status().coordinator) leader = i;
        }
        return leader >= 0 && nodes_[(leader + 1) % 3]->Status().cluster_ready &&
               nodes_[(leader + 2) % 3]->Status().cluster_ready;
      },
      20s));
  const int follower = (leader + 1) % 3;

  // Forwarding: a follower's submit runs the coordinator's hook; its errors come back.
  auto run = nodes_[follower]->SubmitPlan("good", "plan.yaml", 5s);
  ASSERT_TRUE(run) << run.error().message;
  EXPECT_EQ(*run, "run-from-n" + std::to_string(leader));
  auto bad = nodes_[follower]->SubmitPlan("bad", "plan.yaml", 5s);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "plan:1:1: bad plan");
  auto clock = nodes_[follower]->SampleLeaderClock(5s);
  ASSERT_TRUE(clock) << clock.error().message;
  EXPECT_LE(clock->t0, clock->t3);
  EXPECT_LE(clock->t1, clock->t2);
  auto index = nodes_[follower]->ProposeOnLeader(300, "from a follower", 5s);
  ASSERT_TRUE(index) << index.error().message;

  // More entries than libraft's snapshot threshold (1024): every node takes a snapshot.
  // Leadership may move meanwhile on a slow (sanitized) build: what a deposed leader could
  // not commit is proposed again to whoever coordinates now, a batch at a time, until
  // 1100 entries are committed.
  constexpr int kEntries = 1100;
  auto committed = std::make_shared<std::atomic<int>>(0);
  ASSERT_TRUE(WaitFor(
      [&] {
        const int have = committed->load();
        if (have >= kEntries) return true;
        int lead = -1;
        for (int i = 0; i < 3; ++i) {
          if (nodes_[i]->Status().coordinator) lead = i;
        }
        if (lead < 0) return false;
        const int batch = kEntries - have;
        auto answered = std::make_shared<std::atomic<int>>(0);
        for (int k = 0; k < batch; ++k) {
          nodes_[lead]->Propose(300, "entry " + std::to_string(have + k),
                                [committed, answered](Result<uint64_t> r) {
                                  if (r) ++*committed;
                                  ++*answered;
                                });
        }
        WaitFor([&] { return answered->load() == batch; }, 30s);
        return committed->load() >= kEntries;
      },
      180s));
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(logs[follower].mu);
        return logs[follower].snapshots > 0;
      },
      30s));

  // A restarted node restores its snapshot and hands the user state back.
  nodes_[follower]->Stop();
  nodes_[follower].reset();
  HookLog again;
  auto n = ClusterNode::Start(Options(follower), HooksFor("again", again));
  ASSERT_TRUE(n) << n.error().message;
  nodes_[follower] = std::move(*n);
  std::lock_guard<std::mutex> lock(again.mu);
  ASSERT_EQ(again.restored.size(), 1u);
  EXPECT_EQ(again.restored[0].rfind("state of n" + std::to_string(follower) + " after ", 0), 0u)
      << again.restored[0];
}

}  // namespace
}  // namespace volley::cluster
