#include <gtest/gtest.h>

#include <map>

#include "node_cluster.h"

namespace volley::cli {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(NodeClusterSettings, DefaultsAndDurations) {
  auto d = ClusterRunDefaultsFromEnv(Env({}));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->start_delay, std::chrono::milliseconds(2000));
  EXPECT_EQ(d->lost_after, std::chrono::milliseconds(5000));
  EXPECT_EQ(d->distribution, config::Distribution::kDivide);
  d = ClusterRunDefaultsFromEnv(Env({{"CLUSTER_START_DELAY", "750"},
                                     {"CLUSTER_LOST_AFTER", "3s"},
                                     {"CLUSTER_DISTRIBUTION", "Replicate"}}));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->start_delay, std::chrono::milliseconds(750));
  EXPECT_EQ(d->lost_after, std::chrono::milliseconds(3000));
  EXPECT_EQ(d->distribution, config::Distribution::kReplicate);
}

TEST(NodeClusterSettings, EveryBadValueNamedAtOnce) {
  auto d = ClusterRunDefaultsFromEnv(Env({{"CLUSTER_START_DELAY", "soon"},
                                          {"CLUSTER_LOST_AFTER", "0"},
                                          {"CLUSTER_DISTRIBUTION", "spread"}}));
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ErrorCode::kInvalidArgument);
  const std::string& m = d.error().message;
  EXPECT_NE(m.find("CLUSTER_START_DELAY: expected a duration such as 2000 (ms) or 2s, got 'soon'"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("CLUSTER_LOST_AFTER: must be between 1ms and 1h, got '0'"), std::string::npos)
      << m;
  EXPECT_NE(m.find("CLUSTER_DISTRIBUTION: expected divide or replicate, got 'spread'"),
            std::string::npos)
      << m;
}

}  // namespace
}  // namespace volley::cli
