#include <gtest/gtest.h>

#include "volley/config/cluster_section.h"
#include "volley/config/plan_yaml.h"

namespace volley::config {
namespace {

std::string PlanWith(const std::string& cluster) {
  return "version: \"1.0\"\nconfig:\n  baseUrl: http://127.0.0.1:8080\n  duration: 10s\n" + cluster;
}

TEST(PlanCluster, ReadsEveryField) {
  auto plan = ParsePlanYaml(PlanWith(R"(cluster:
  distribution: replicate
  minNodes: 3
  minNodesTimeout: 45s
  startDelay: 1500ms
  nodes:
    regions: [eu-west, us-east]
    ids: n7
)"),
                            "plan.yaml");
  ASSERT_TRUE(plan) << plan.error().message;
  const ClusterSection& c = plan->cluster;
  ASSERT_TRUE(c.distribution);
  EXPECT_EQ(*c.distribution, Distribution::kReplicate);
  EXPECT_EQ(c.min_nodes, 3u);
  EXPECT_EQ(c.min_nodes_timeout, std::chrono::seconds(45));
  ASSERT_TRUE(c.start_delay);
  EXPECT_EQ(*c.start_delay, std::chrono::milliseconds(1500));
  EXPECT_EQ(c.regions, (std::vector<std::string>{"eu-west", "us-east"}));
  EXPECT_EQ(c.ids, (std::vector<std::string>{"n7"}));
  EXPECT_EQ(plan->origins.at("cluster.minNodes"), "plan.yaml:7:13");
  EXPECT_TRUE(CheckClusterSection(*plan));
}

TEST(PlanCluster, DefaultsWithoutTheSection) {
  auto plan = ParsePlanYaml(PlanWith(""), "plan.yaml");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_FALSE(plan->cluster.distribution);
  EXPECT_EQ(plan->cluster.min_nodes, 1u);
  EXPECT_EQ(plan->cluster.min_nodes_timeout, std::chrono::seconds(30));
  EXPECT_FALSE(plan->cluster.start_delay);
  EXPECT_TRUE(plan->cluster.any_node());
}

TEST(PlanCluster, EveryProblemPositioned) {
  auto plan = ParsePlanYaml(PlanWith(R"(cluster:
  distribution: spread
  minNodes: 0
  minNodesTimeout: 0s
  startDelay: 2h
  nodez: 1
  nodes:
    regions: [eu, eu, ""]
    ids: {a: 1}
)"),
                            "plan.yaml");
  ASSERT_FALSE(plan);
  const std::string& m = plan.error().message;
  EXPECT_NE(m.find("plan.yaml:6:17: cluster.distribution: expected divide"), std::string::npos)
      << m;
  EXPECT_NE(m.find("plan.yaml:7:13: cluster.minNodes: must be >= 1, got 0"), std::string::npos)
      << m;
  EXPECT_NE(m.find("plan.yaml:8:20: cluster.minNodesTimeout: must be > 0"), std::string::npos) << m;
  EXPECT_NE(m.find("plan.yaml:9:15: cluster.startDelay: must be at most 1h"), std::string::npos)
      << m;
  EXPECT_NE(m.find("plan.yaml:10:3: cluster.nodez: unknown key (did you mean 'nodes'?)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("cluster.nodes.regions: 'eu' is listed twice"), std::string::npos) << m;
  EXPECT_NE(m.find("cluster.nodes.regions: an empty name"), std::string::npos) << m;
  EXPECT_NE(m.find("cluster.nodes.ids: must be a list of names"), std::string::npos) << m;
}

TEST(PlanCluster, EmptyNodesIsAProblem) {
  auto plan = ParsePlanYaml(PlanWith("cluster:\n  nodes: {}\n"), "plan.yaml");
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message.find("cluster.nodes: name regions: [...] and/or ids: [...]"),
            std::string::npos)
      << plan.error().message;
}

TEST(PlanCluster, MinNodesBeyondTheListedIdsIsRefused) {
  auto plan =
      ParsePlanYaml(PlanWith("cluster:\n  minNodes: 3\n  nodes: {ids: [a, b]}\n"), "plan.yaml");
  ASSERT_TRUE(plan) << plan.error().message;
  auto r = CheckClusterSection(*plan);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "plan.yaml:6:13: cluster.minNodes: can never be reached: cluster.nodes.ids allows 2 "
            "node(s), minNodes asks for 3; lower minNodes or list more ids");
  // With a region as well, more nodes may match: nothing to say before the run.
  auto wider = ParsePlanYaml(
      PlanWith("cluster:\n  minNodes: 3\n  nodes: {ids: [a, b], regions: [eu]}\n"), "plan.yaml");
  ASSERT_TRUE(wider) << wider.error().message;
  EXPECT_TRUE(CheckClusterSection(*wider));
}

}  // namespace
}  // namespace volley::config
