// Consul discovery (DISCOVERY_MODE=consul, seed 002, issue 15): the node registers itself
// as a service of the Consul agent (tag = its Raft role, an HTTP check on its
// /health/cluster), learns its peers from `/v1/health/service/<name>?passing` with
// blocking queries, re-registers on every role change (Consul has no PATCH) and
// deregisters on a clean stop. Consul being away is retried with backoff and reported
// (Health()); nothing here ever stops the cluster once formed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "volley/cluster/cluster_node.h"
#include "volley/common/clock.h"
#include "volley/common/result.h"
#include "volley/config/env.h"

namespace volley::cluster {

struct ConsulOptions {
  std::string addr = "http://127.0.0.1:8500";  // CONSUL_ADDR (scheme optional: http)
  std::string service = "loadtest-cluster";    // CONSUL_SERVICE_NAME
  std::string token;                           // CONSUL_HTTP_TOKEN; never logged
  // Members to see passing (this one included) before a node with no Raft state
  // bootstraps: every node then starts from the same list (CONSUL_BOOTSTRAP_EXPECT, 3).
  size_t bootstrap_expect = 3;
  // What is registered. service_id defaults to "<service>-<node_id>"; address/port are the
  // node's Raft address (SelfAddress); check_url its /health/cluster.
  std::string service_id, address, node_id, region;
  int port = 0;
  std::string check_url;
  std::string check_interval = "5s", check_timeout = "2s";
  std::string deregister_after = "1m";    // CONSUL_DEREGISTER_AFTER (Consul's minimum)
  Nanos wait = std::chrono::seconds(30);  // a blocking query's wait
  Nanos min_query_interval = std::chrono::milliseconds(250);  // rate limit
  Nanos max_backoff = std::chrono::seconds(5);
  Nanos role_poll = std::chrono::milliseconds(100);  // how often the role is looked at
  Nanos refresh = std::chrono::seconds(60);          // re-register this often anyway
};

// CONSUL_ADDR (default http://127.0.0.1:8500; http:// added when no scheme is given; no
// path), as discovery and the consul-kv config source read it. kInvalidArgument naming it.
Result<std::string> ConsulAddrFromEnv(const config::EnvLookup& env);

// CONSUL_* over the defaults, with the registration taken from `cluster` (node id, region,
// SelfAddress). `control_url` is the node's control API ("http://host:port"): the check
// fetches <control_url>/health/cluster. kInvalidArgument naming each bad variable.
Result<ConsulOptions> ConsulOptionsFromEnv(const config::EnvLookup& env,
                                           const ClusterOptions& cluster,
                                           const std::string& control_url);

// The service definition PUT to /v1/agent/service/register (JSON), for `role`.
std::string ConsulRegistration(const ConsulOptions& options, Role role);

// One instance of `?passing`, as registered: Service.Address (or Node.Address) : Port.
struct ConsulPeer {
  std::string service_id;
  std::string address;  // normalized host:port
  std::vector<std::string> tags;
};
// Parses a /v1/health/service answer; kProtocol naming what is wrong. Bounded: at most
// 4096 instances.
Result<std::vector<ConsulPeer>> ParseConsulHealth(std::string_view body);

// What /health/cluster's `discovery` object says.
struct DiscoveryHealth {
  std::string mode = "consul";
  std::string state = "degraded";  // ok | degraded (Consul not answering, or refusing)
  std::string last_error;          // "" when ok
  std::string registered_tag;      // the tag Consul has, "" before the first registration
  std::vector<ConsulPeer> peers;   // the last passing list
  uint64_t index = 0;              // its X-Consul-Index
  uint64_t registrations = 0, queries = 0, failures = 0;
};

// Thread-safe. Runs two threads (the registrar and the watcher), each with its own HTTP
// client; Stop() cancels them, joins them and deregisters.
class ConsulDiscovery {
 public:
  // `role` is polled every options.role_poll (from the registrar's thread; it must be
  // thread-safe): nullopt while there is no cluster node yet (then "forming").
  static std::unique_ptr<ConsulDiscovery> Start(ConsulOptions options,
                                                std::function<std::optional<Role>()> role);
  virtual ~ConsulDiscovery() = default;  // Stop()s

  virtual DiscoveryHealth Health() const = 0;
  // Waits up to `timeout` for a passing list newer than `after` (an index from Health());
  // returns the health then. For the start-up that waits for its peers.
  virtual DiscoveryHealth WaitForChange(uint64_t after, std::chrono::milliseconds timeout) = 0;
  // Stops the threads, then deregisters (404 = already gone = success). Idempotent.
  virtual void Stop() = 0;
};

// /health/cluster's JSON with a `discovery` object added.
std::string WithDiscoveryJson(const std::string& health_json, const DiscoveryHealth& health);

}  // namespace volley::cluster
