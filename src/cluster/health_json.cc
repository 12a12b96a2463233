// GET /health/cluster: seed 002's JSON exactly, plus what an operator needs.
#include <nlohmann/json.hpp>

#include "volley/cluster/cluster_node.h"

namespace volley::cluster {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kForming:
      return "forming";
    case Role::kFollower:
      return "follower";
    case Role::kLeader:
      return "leader";
  }
  return "forming";
}

std::string ClusterHealthJson(const ClusterStatus& s) {
  nlohmann::json j;
  j["state"] = RoleName(s.state);
  j["node_id"] = s.node_id;
  j["leader_id"] = s.leader_id;
  j["term"] = s.term;
  j["peers"] = s.peers;
  j["cluster_ready"] = s.cluster_ready;
  j["region"] = s.region;
  j["address"] = s.address;
  j["coordinator"] = s.coordinator;
  j["voters"] = nlohmann::json::array();
  j["standbys"] = nlohmann::json::array();
  for (const auto& m : s.members) {
    nlohmann::json e;
    e["node_id"] = m.node_id;
    e["address"] = m.address;
    e["region"] = m.region;
    e["membership"] = m.membership;
    e["last_contact_ms"] =
        m.last_contact ? nlohmann::json(m.last_contact->count()) : nlohmann::json(nullptr);
    e["max_silence_ms"] =
        m.max_silence ? nlohmann::json(m.max_silence->count()) : nlohmann::json(nullptr);
    j[m.membership == "voter" ? "voters" : "standbys"].push_back(std::move(e));
  }
  j["elections"] = s.elections;
  j["term_changes"] = s.term_changes;
  j["refused_peers"] = s.refused_peers;
  j["last_log_index"] = s.last_log_index;
  j["commit_index"] = s.commit_index;
  return j.dump();
}

}  // namespace volley::cluster
