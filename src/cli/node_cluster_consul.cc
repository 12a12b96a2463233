// DISCOVERY_MODE=consul on a `volley node` (issue 15): the node registers in Consul once its
// control API serves /health/cluster, waits until CONSUL_BOOTSTRAP_EXPECT members (itself
// included) pass their checks, then starts its cluster member with those addresses as
// CLUSTER_NODES. Every node that waits for the same set bootstraps the same configuration;
// a node restarted with its Raft state starts at the first answer (its log holds the
// configuration). The tags follow the member's role from then on.
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "node_cluster.h"
#include "node_cluster_config.h"
#include "volley/cluster/cluster_env.h"
#include "volley/cluster/consul_discovery.h"
#include "volley/common/env.h"

namespace volley::cli {

struct ConsulBootstrap {
  cluster::ClusterOptions options;
  cluster::ConsulOptions consul;
  std::string self;                                     // SelfAddress(options)
  NodeCluster* cluster = nullptr;                       // owns this bootstrap
  std::unique_ptr<cluster::ConsulDiscovery> discovery;  // set once by ControlApiStarted
  // `discovery` for the handlers' threads (the control API serves before it is set).
  std::atomic<cluster::ConsulDiscovery*> published{nullptr};
  std::atomic<cluster::ClusterNode*> live{nullptr};
  std::unique_ptr<cluster::ClusterNode> node;  // written by the starter before `live`
  std::thread starter;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::string start_error;  // guarded by mu

  // Has this data directory a Raft state already (libraft's metadata files)?
  bool HasRaftState() const {
    std::error_code ec;
    return std::filesystem::exists(options.data_dir + "/metadata1", ec) ||
           std::filesystem::exists(options.data_dir + "/metadata2", ec);
  }

  void Start() {
    const bool restarted = HasRaftState();
    uint64_t seen = 0;
    size_t reported = SIZE_MAX;
    while (!stop) {
      const cluster::DiscoveryHealth h =
          discovery->WaitForChange(seen, std::chrono::milliseconds(500));
      if (stop) return;
      if (h.queries == seen) continue;
      seen = h.queries;
      std::set<std::string> members{self};
      for (const auto& p : h.peers) members.insert(p.address);
      if (members.size() < consul.bootstrap_expect && !restarted) {
        if (members.size() != reported) {
          fprintf(stderr,
                  "volley cluster: consul: %zu of %zu members pass in '%s'; waiting "
                  "(CONSUL_BOOTSTRAP_EXPECT)\n",
                  members.size(), consul.bootstrap_expect, consul.service.c_str());
          reported = members.size();
        }
        continue;
      }
      options.nodes.assign(members.begin(), members.end());
      std::string list;
      for (const auto& m : options.nodes) list += (list.empty() ? "" : ",") + m;
      fprintf(stderr, "volley cluster: consul: starting with %s (%s)\n", list.c_str(),
              restarted ? "restarted: the Raft log holds the configuration" : "bootstrap");
      auto n = StartMember(*cluster, options);
      if (!n) {
        fprintf(stderr, "volley cluster: cannot start the cluster member: %s\n",
                n.error().message.c_str());
        std::lock_guard<std::mutex> l(mu);
        start_error = n.error().message;
        return;
      }
      node = std::move(*n);
      live.store(node.get());
      AttachMember(*cluster, *node);  // after `live`: the agent's thread reads Node()
      return;
    }
  }
};

Result<void> PrepareConsul(NodeCluster& cluster, cluster::ClusterOptions options) {
  auto b = std::make_unique<ConsulBootstrap>();
  auto consul = cluster::ConsulOptionsFromEnv(ProcessEnv(), options, "");
  if (!consul) return tl::unexpected(consul.error());
  auto self = cluster::SelfAddress(options);
  if (!self) return tl::unexpected(self.error());
  b->self = *self;
  b->consul = std::move(*consul);
  b->options = std::move(options);
  b->cluster = &cluster;
  cluster.consul = std::move(b);
  return {};
}

cluster::ClusterNode* NodeCluster::Node() const {
  if (node) return node.get();
  return consul ? consul->live.load() : nullptr;
}

void NodeCluster::ControlApiStarted(const std::string& host, uint16_t port) {
  if (!consul || consul->discovery) return;
  // The agent checks the address the node registers when the API listens on a wildcard.
  std::string h = host == "0.0.0.0" || host == "::" ? consul->consul.address : host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  consul->consul.check_url = "http://" + h + ":" + std::to_string(port) + "/health/cluster";
  ConsulBootstrap* b = consul.get();
  consul->discovery =
      cluster::ConsulDiscovery::Start(consul->consul, [b]() -> std::optional<cluster::Role> {
        cluster::ClusterNode* n = b->live.load();
        if (n == nullptr) return std::nullopt;
        return n->Status().state;
      });
  fprintf(stderr, "volley cluster: consul discovery: %s, service '%s' (id %s), check %s\n",
          consul->consul.addr.c_str(), consul->consul.service.c_str(),
          consul->consul.service_id.c_str(), consul->consul.check_url.c_str());
  consul->published.store(consul->discovery.get());
  consul->starter = std::thread([b] { b->Start(); });
}

// The config source's state, when there is one, as /health/cluster's `config_source`.
static std::string WithConfigSource(std::string json, const ConfigSourceRunner* source) {
  if (source == nullptr) return json;
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded()) return json;
  j["config_source"] = nlohmann::json::parse(source->Json());
  return j.dump();
}

std::string NodeCluster::HealthJson() const {
  cluster::ClusterNode* n = Node();
  if (!consul)
    return WithConfigSource(cluster::ClusterHealthJson(n->Status()), config_source.get());
  cluster::ClusterStatus s;
  if (n != nullptr) {
    s = n->Status();
  } else {
    s.node_id = consul->options.node_id;
    s.region = consul->options.region;
    s.address = consul->self;
  }
  cluster::DiscoveryHealth h;
  if (cluster::ConsulDiscovery* d = consul->published.load()) h = d->Health();
  {
    std::lock_guard<std::mutex> l(consul->mu);
    if (!consul->start_error.empty()) {
      h.state = "degraded";
      h.last_error = "the cluster member did not start: " + consul->start_error;
    }
  }
  return WithConfigSource(cluster::WithDiscoveryJson(cluster::ClusterHealthJson(s), h),
                          config_source.get());
}

void NodeCluster::Stop() {
  if (config_source) config_source->Stop();
  if (metrics) metrics->Stop();
  if (consul) {
    consul->stop = true;
    if (consul->starter.joinable()) consul->starter.join();
    if (consul->discovery) consul->discovery->Stop();  // deregisters
  }
  if (agent) agent->Detach();
  if (node) node->Stop();
  if (consul && consul->node) consul->node->Stop();
}

NodeCluster::NodeCluster() = default;
NodeCluster::~NodeCluster() { Stop(); }

}  // namespace volley::cli
