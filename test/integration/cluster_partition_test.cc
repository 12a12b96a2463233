// A network partition in namespaces this test creates (issue 12, specs/cluster.md §3):
// isolate the leader of 3 nodes with nft drop rules; the majority elects a new leader, the
// isolated node stops coordinating and commits nothing, and after healing it rejoins as a
// follower. No term ever has two coordinators (checked in every node's log).
// Root only; skips with the reason elsewhere. Deletes everything it created.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include "integration/cluster_harness.h"

namespace volley::testing {
namespace {

constexpr milliseconds kDeadline(30'000);

int Shell(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

// Three namespaces on a bridge in the test's own namespace (so the test reaches every
// node): 10.213.N.1-3 for the nodes, .254 for the bridge, N from the test's pid so that
// two runs at once (two worktrees, CI) do not share a subnet.
class Namespaces {
 public:
  explicit Namespaces(int n) : tag_(std::to_string(getpid() % 100000)) {
    bridge_ = "vpb" + tag_;
    ok_ = Shell("ip link add " + bridge_ + " type bridge") == 0 &&
          Shell("ip addr add " + Net() + ".254/24 dev " + bridge_) == 0 &&
          Shell("ip link set " + bridge_ + " up") == 0;
    for (int i = 0; ok_ && i < n; ++i) {
      const std::string ns = Name(i), host = "vh" + tag_ + "_" + std::to_string(i);
      names_.push_back(ns);
      ok_ = Shell("ip netns add " + ns) == 0 &&
            Shell("ip link add " + host + " type veth peer name eth0 netns " + ns) == 0 &&
            Shell("ip link set " + host + " master " + bridge_ + " up") == 0 &&
            Shell("ip -n " + ns + " addr add " + Ip(i) + "/24 dev eth0") == 0 &&
            Shell("ip -n " + ns + " link set eth0 up") == 0 &&
            Shell("ip -n " + ns + " link set lo up") == 0;
    }
  }
  ~Namespaces() {
    for (const auto& ns : names_) Shell("ip netns del " + ns);
    Shell("ip link del " + bridge_);
  }
  bool ok() const { return ok_; }
  std::string Name(int i) const { return "volley-part-" + tag_ + "-" + std::to_string(i); }
  static std::string Net() { return "10.213." + std::to_string(10 + getpid() % 240); }
  static std::string Ip(int i) { return Net() + "." + std::to_string(i + 1); }

  // Drops every packet between namespace `i` and the other nodes (the test's bridge
  // address stays reachable, so its health endpoint can still be read).
  bool Isolate(int i) {
    const std::string nft = "ip netns exec " + Name(i) + " nft ";
    return Shell(nft + "add table inet volley_partition") == 0 &&
           Shell(nft +
                 "'add chain inet volley_partition in { type filter hook input priority 0; }'") ==
               0 &&
           Shell(nft +
                 "'add chain inet volley_partition out { type filter hook output priority 0; }'") ==
               0 &&
           Shell(nft + "add rule inet volley_partition in ip saddr " + Net() +
                 ".0/24 ip saddr != " + Net() + ".254 drop") == 0 &&
           Shell(nft + "add rule inet volley_partition out ip daddr " + Net() +
                 ".0/24 ip daddr != " + Net() + ".254 drop") == 0;
  }
  bool Heal(int i) {
    return Shell("ip netns exec " + Name(i) + " nft delete table inet volley_partition") == 0;
  }

 private:
  std::string tag_, bridge_;
  std::vector<std::string> names_;
  bool ok_ = false;
};

// term → nodes that said they coordinate it, from "coordinator for term N" log lines.
std::map<uint64_t, std::set<std::string>> CoordinatorsByTerm(ClusterHarness& c) {
  std::map<uint64_t, std::set<std::string>> out;
  static const std::regex re("coordinator for term ([0-9]+) \\(");
  for (size_t i = 0; i < c.size(); ++i) {
    const std::string err = c[i].process->Stderr();
    for (std::sregex_iterator it(err.begin(), err.end(), re), end; it != end; ++it) {
      out[std::stoull((*it)[1])].insert(c[i].name);
    }
  }
  return out;
}

TEST(ClusterPartition, IsolatedLeaderStepsDownAndRejoinsAndNoTermHasTwoCoordinators) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces";
  if (Shell("command -v nft") != 0 || Shell("command -v ip") != 0) {
    GTEST_SKIP() << "needs the ip and nft commands (iproute2, nftables)";
  }
  Namespaces net(3);
  if (!net.ok()) GTEST_SKIP() << "cannot create namespaces, veth pairs or a bridge here";
  ClusterHarness c(3, {{"CLUSTER_TOKEN", "partition-test-token"}});
  for (int i = 0; i < 3; ++i) {
    c[i].host = Namespaces::Ip(i);
    c[i].raft_port = 7000;
    c[i].http_port = 8080;
    c[i].prefix = {"/usr/sbin/ip", "netns", "exec", net.Name(i)};
  }
  for (size_t i = 0; i < 3; ++i) c.Start(i);
  auto leader = c.WaitForAgreement({0, 1, 2}, kDeadline);
  ASSERT_TRUE(leader) << c.Diagnostics();
  const uint64_t term = (*c.Health(*leader))["term"];

  ASSERT_TRUE(net.Isolate(static_cast<int>(*leader)));
  const uint64_t isolated_commit = (*c.Health(*leader))["commit_index"];
  std::vector<size_t> majority;
  for (size_t i = 0; i < 3; ++i) {
    if (i != *leader) majority.push_back(i);
  }
  auto next = c.WaitForAgreement(majority, kDeadline);
  ASSERT_TRUE(next) << c.Diagnostics();
  EXPECT_GT((*c.Health(*next))["term"].get<uint64_t>(), term);
  // The isolated node stops coordinating (it loses its majority) and commits nothing.
  ASSERT_TRUE(PollUntil(
      [&] {
        auto h = c.Health(*leader);
        return h && (*h)["coordinator"] == false && (*h)["state"] != "leader";
      },
      kDeadline))
      << c.Diagnostics();
  EXPECT_EQ((*c.Health(*leader))["commit_index"], isolated_commit);

  ASSERT_TRUE(net.Heal(static_cast<int>(*leader)));
  ASSERT_TRUE(PollUntil(
      [&] {
        auto h = c.Health(*leader);
        return h && (*h)["state"] == "follower" && (*h)["cluster_ready"] == true;
      },
      kDeadline))
      << c.Diagnostics();
  auto all = c.WaitForAgreement({0, 1, 2}, kDeadline);
  ASSERT_TRUE(all) << c.Diagnostics();

  const auto terms = CoordinatorsByTerm(c);
  EXPECT_GE(terms.size(), 2u);
  for (const auto& [t, who] : terms) {
    EXPECT_EQ(who.size(), 1u) << "term " << t << " had " << who.size() << " coordinators";
  }
}

}  // namespace
}  // namespace volley::testing
