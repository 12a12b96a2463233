#include <gtest/gtest.h>

#include <map>

#include "volley/cluster/cluster_env.h"

namespace volley::cluster {
namespace {

config::EnvLookup Env(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

TEST(ClusterOptions, DisabledByDefault) {
  EXPECT_FALSE(*ClusterEnabledFromEnv(Env({})));
  EXPECT_TRUE(*ClusterEnabledFromEnv(Env({{"CLUSTER_ENABLED", "true"}})));
  EXPECT_NE(ClusterEnabledFromEnv(Env({{"CLUSTER_ENABLED", "maybe"}}))
                .error()
                .message.find("CLUSTER_ENABLED"),
            std::string::npos);
}

TEST(ClusterOptions, ReadsEveryVariable) {
  auto o = ClusterOptionsFromEnv(Env({{"CLUSTER_BIND_ADDR", "127.0.0.1:7001"},
                                      {"CLUSTER_NODES", "127.0.0.1:7001, 127.0.0.1:7002,,"},
                                      {"CLUSTER_NODE_ID", "n1"},
                                      {"CLUSTER_REGION", "eu-west"},
                                      {"CLUSTER_DATA_DIR", "/tmp/x"},
                                      {"CLUSTER_VOTERS", "3"},
                                      {"CLUSTER_MIN_PEERS", "2"},
                                      {"CLUSTER_ELECTION_TIMEOUT", "800ms"},
                                      {"CLUSTER_HEARTBEAT_INTERVAL", "40"},
                                      {"CLUSTER_PROMOTE_AFTER", "3s"},
                                      {"CLUSTER_TOKEN", " secret "},
                                      {"DISCOVERY_MODE", "Static"}}));
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->node_id, "n1");
  EXPECT_EQ(o->region, "eu-west");
  EXPECT_EQ(o->nodes, (std::vector<std::string>{"127.0.0.1:7001", "127.0.0.1:7002"}));
  EXPECT_EQ(o->voters, 3u);
  EXPECT_EQ(o->min_peers, 2u);
  EXPECT_EQ(o->election_timeout.count(), 800);
  EXPECT_EQ(o->heartbeat_interval.count(), 40);
  EXPECT_EQ(o->promote_after.count(), 3000);
  EXPECT_EQ(o->token, " secret ");
  EXPECT_EQ(o->data_dir, "/tmp/x");
}

TEST(ClusterOptions, DefaultsNodeIdFromHostnameAndRegion) {
  auto o = ClusterOptionsFromEnv(Env({{"CLUSTER_BIND_ADDR", "127.0.0.1:7001"},
                                      {"CLUSTER_NODES", "127.0.0.1:7001"},
                                      {"CLUSTER_REGION", "asia"}}));
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->node_id.substr(o->node_id.size() - 5), "-asia");
  EXPECT_EQ(o->election_timeout.count(), 500);
  EXPECT_EQ(o->voters, 5u);
}

TEST(ClusterOptions, ReportsEveryProblemAtOnceByVariable) {
  auto o = ClusterOptionsFromEnv(Env({{"CLUSTER_BIND_ADDR", "127.0.0.1:7001"},
                                      {"CLUSTER_NODES", "127.0.0.1:7002,bad"},
                                      {"CLUSTER_VOTERS", "0"},
                                      {"CLUSTER_ELECTION_TIMEOUT", "soon"},
                                      {"CLUSTER_INSECURE", "perhaps"},
                                      {"DISCOVERY_MODE", "dns"}}));
  ASSERT_FALSE(o);
  const std::string& m = o.error().message;
  for (const char* name : {"CLUSTER_VOTERS:", "CLUSTER_ELECTION_TIMEOUT:", "CLUSTER_INSECURE:",
                           "DISCOVERY_MODE:", "CLUSTER_NODES:"}) {
    EXPECT_NE(m.find(name), std::string::npos) << name << " in:\n" << m;
  }
}

TEST(ClusterOptions, ConsulDiscoveryNeedsNoNodeList) {
  auto o = ClusterOptionsFromEnv(
      Env({{"CLUSTER_BIND_ADDR", "127.0.0.1:7001"}, {"DISCOVERY_MODE", "Consul"}}));
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->discovery, "consul");
  EXPECT_TRUE(o->nodes.empty());  // filled from Consul's passing instances before Start
  auto s = ClusterOptionsFromEnv(Env({{"CLUSTER_BIND_ADDR", "127.0.0.1:7001"}}));
  ASSERT_FALSE(s);  // static discovery still needs the list
  EXPECT_NE(s.error().message.find("CLUSTER_NODES: no nodes"), std::string::npos);
}

TEST(ClusterOptions, NonLoopbackBindNeedsAuthenticationOrInsecure) {
  ClusterOptions o;
  o.node_id = "n";
  o.data_dir = "d";
  o.bind_addr = "0.0.0.0:7000";
  o.self_addr = "10.0.0.1:7000";
  o.nodes = {"10.0.0.1:7000"};
  auto r = ValidateClusterOptions(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("CLUSTER_INSECURE=true"), std::string::npos);
  o.token = "t";
  EXPECT_TRUE(ValidateClusterOptions(o));
  o.token.clear();
  o.insecure = true;
  EXPECT_TRUE(ValidateClusterOptions(o));
  o.insecure = false;
  o.tls_cert = "c";
  EXPECT_NE(ValidateClusterOptions(o).error().message.find("all three"), std::string::npos);
  o.tls_key = "k";
  o.tls_ca = "a";
  EXPECT_TRUE(ValidateClusterOptions(o));
}

TEST(ClusterOptions, OwnAddressMustBeListed) {
  ClusterOptions o;
  o.node_id = "n";
  o.data_dir = "d";
  o.bind_addr = "127.0.0.1:7005";
  o.nodes = {"127.0.0.1:7001", "127.0.0.1:7002"};
  auto r = ValidateClusterOptions(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("127.0.0.1:7005 is not in the list"), std::string::npos);
  o.self_addr = "localhost:7002";
  EXPECT_TRUE(ValidateClusterOptions(o));
}

TEST(ClusterOptions, HelpListsEveryVariable) {
  const std::string help = ClusterEnvHelp();
  for (const char* v :
       {"CLUSTER_ENABLED", "CLUSTER_BIND_ADDR", "CLUSTER_SELF_ADDR", "CLUSTER_NODES",
        "DISCOVERY_MODE", "CLUSTER_NODE_ID", "CLUSTER_REGION", "CLUSTER_DATA_DIR", "CLUSTER_VOTERS",
        "CLUSTER_MIN_PEERS", "CLUSTER_ELECTION_TIMEOUT", "CLUSTER_HEARTBEAT_INTERVAL",
        "CLUSTER_PROMOTE_AFTER", "CLUSTER_TOKEN", "CLUSTER_TLS_CERT", "CLUSTER_TLS_KEY",
        "CLUSTER_TLS_CA", "CLUSTER_INSECURE"}) {
    EXPECT_NE(help.find(v), std::string::npos) << v;
  }
}

}  // namespace
}  // namespace volley::cluster
