// `volley node` processes in cluster mode on 127.0.0.1, each with its own cluster port,
// control port and data directory, for the cluster's process tests. Header-only.
//
// Threads: confined to the test's thread (Subprocess is).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fakes/free_port.h"
#include "fakes/subprocess.h"
#include "volley/common/http_client.h"

#ifndef VOLLEY_BINARY
#error "VOLLEY_BINARY must name the volley executable"
#endif

namespace volley::testing {

using nlohmann::json;

struct ClusterMember {
  std::string name;           // CLUSTER_NODE_ID
  uint16_t raft_port = 0;     // CLUSTER_BIND_ADDR's port
  uint16_t http_port = 0;     // --listen (GET /health/cluster)
  uint16_t metrics_port = 0;  // --metrics-addr 127.0.0.1:port when set (else none)
  std::string data_dir;
  std::map<std::string, std::string> extra_env;  // per-node additions (token, TLS)
  std::string host = "127.0.0.1";                // where it listens (both ports)
  std::vector<std::string> prefix;               // runs argv through this (e.g. ip netns exec NS)
  std::vector<std::string> args;                 // appended to `volley node ...` (e.g. a plan file)
  std::unique_ptr<Subprocess> process;
  std::string address() const { return host + ":" + std::to_string(raft_port); }
};

class ClusterHarness {
 public:
  // `n` members named n0.., all listed in CLUSTER_NODES; none started.
  explicit ClusterHarness(size_t n, std::map<std::string, std::string> common_env = {})
      : common_env_(std::move(common_env)) {
    for (size_t i = 0; i < n; ++i) AddMember();
  }
  ~ClusterHarness() { members_.clear(); }  // each Subprocess kills its child

  ClusterMember& AddMember() {
    ClusterMember m;
    m.name = "n" + std::to_string(members_.size());
    m.raft_port = FreeLoopbackPort();
    m.http_port = FreeLoopbackPort();
    m.data_dir = dir_.File(m.name);
    members_.push_back(std::move(m));
    return members_.back();
  }

  size_t size() const { return members_.size(); }
  ClusterMember& operator[](size_t i) { return members_[i]; }
  const TempDir& dir() const { return dir_; }

  std::string NodeList() const {
    std::string out;
    for (const auto& m : members_) out += (out.empty() ? "" : ",") + m.address();
    return out;
  }

  // Starts member `i` with CLUSTER_NODES = `nodes` (default: every member).
  void Start(size_t i, std::optional<std::string> nodes = std::nullopt) {
    ClusterMember& m = members_[i];
    Env env;
    // A developer's own cluster settings must not leak into the test.
    env.unset = {"CLUSTER_TOKEN",
                 "CLUSTER_TLS_CERT",
                 "CLUSTER_TLS_KEY",
                 "CLUSTER_TLS_CA",
                 "CLUSTER_SELF_ADDR",
                 "CLUSTER_VOTERS",
                 "CLUSTER_MIN_PEERS",
                 "CLUSTER_REGION",
                 "CLUSTER_ELECTION_TIMEOUT",
                 "CLUSTER_HEARTBEAT_INTERVAL",
                 "CLUSTER_INSECURE",
                 "CLUSTER_PROMOTE_AFTER",
                 "DISCOVERY_MODE",
                 "METRICS_ADDR"};
    env.set = common_env_;
    env.set["CLUSTER_ENABLED"] = "true";
    env.set["CLUSTER_BIND_ADDR"] = m.address();
    env.set["CLUSTER_NODES"] = nodes ? *nodes : NodeList();
    env.set["CLUSTER_NODE_ID"] = m.name;
    env.set["CLUSTER_DATA_DIR"] = m.data_dir;
    for (const auto& [k, v] : m.extra_env) env.set[k] = v;
    std::string error;
    std::vector<std::string> argv = m.prefix;
    for (std::string a :
         {std::string(VOLLEY_BINARY), std::string("node"), std::string("--listen"),
          m.host + ":" + std::to_string(m.http_port), std::string("--metrics-addr"),
          m.metrics_port == 0 ? std::string() : m.host + ":" + std::to_string(m.metrics_port)}) {
      argv.push_back(a);
    }
    argv.insert(argv.end(), m.args.begin(), m.args.end());
    m.process = Subprocess::Spawn(argv, env, &error);
    ASSERT_NE(m.process, nullptr) << error;
  }

  void Kill(size_t i) {
    members_[i].process->Signal(SIGKILL);
    members_[i].process->Wait(milliseconds(10'000));
  }

  bool Running(size_t i) { return members_[i].process && members_[i].process->running(); }

  // GET /health/cluster of member `i`; nullopt while it does not answer.
  std::optional<json> Health(size_t i) {
    http::HttpClient client;
    http::ClientRequest req;
    req.method = "GET";
    req.url = "http://" + members_[i].host + ":" + std::to_string(members_[i].http_port) +
              "/health/cluster";
    req.connect_timeout = std::chrono::seconds(1);
    req.timeout = std::chrono::seconds(2);
    auto res = client.Send(req);
    if (!res || res->status != 200) return std::nullopt;
    auto j = json::parse(res->body, nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j;
  }

  // Whether `leader`'s /health/cluster knows every other member of `live` by node id and
  // heard from it within the last second: a plan submitted then takes all of them part
  // (the coordinator chooses the members it is in touch with).
  bool InTouch(size_t leader, const std::vector<size_t>& live) {
    auto h = Health(leader);
    if (!h) return false;
    for (size_t i : live) {
      if (i == leader) continue;
      bool found = false;
      for (const char* list : {"voters", "standbys"}) {
        for (const auto& m : (*h)[list]) {
          if (m.value("node_id", "") == members_[i].name && m["last_contact_ms"].is_number() &&
              m["last_contact_ms"].get<int64_t>() < 1000) {
            found = true;
          }
        }
      }
      if (!found) return false;
    }
    return true;
  }

  // Waits until exactly one of `live` reports "leader", every one of them answers, reports
  // the same leader_id and term and cluster_ready, and the leader is in touch with every
  // one of them (InTouch); returns the leader's index.
  std::optional<size_t> WaitForAgreement(const std::vector<size_t>& live, milliseconds timeout) {
    std::optional<size_t> leader;
    const bool agreed = PollUntil(
        [&] {
          leader.reset();
          std::optional<json> first;
          for (size_t i : live) {
            auto h = Health(i);
            if (!h || !(*h)["cluster_ready"].get<bool>()) return false;
            if (!first) first = h;
            if ((*h)["leader_id"] != (*first)["leader_id"] || (*h)["term"] != (*first)["term"]) {
              return false;
            }
            if ((*h)["state"] == "leader") {
              if (leader) return false;
              leader = i;
            } else if ((*h)["state"] != "follower") {
              return false;
            }
          }
          return leader.has_value() && InTouch(*leader, live);
        },
        timeout, milliseconds(10));
    return agreed ? leader : std::nullopt;
  }

  std::string Diagnostics() {
    std::string out;
    for (auto& m : members_) {
      if (m.process) out += "=== " + m.name + " ===\n" + m.process->Stderr() + "\n";
    }
    return out;
  }

 private:
  TempDir dir_;
  std::map<std::string, std::string> common_env_;
  std::vector<ClusterMember> members_;
};

}  // namespace volley::testing
