#include "volley/cluster/run_participants.h"

#include <algorithm>

namespace volley::cluster {
namespace {

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// A member this node has never heard from is named by its address (its id and region are
// not known yet).
bool Unidentified(const MemberStatus& m, const ClusterStatus& status) {
  return m.node_id != status.node_id && m.node_id == m.address;
}

std::string Seconds(Nanos d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

}  // namespace

Result<ParticipantChoice> ChooseParticipants(const config::ClusterSection& section,
                                             const ClusterStatus& status,
                                             std::chrono::milliseconds lost_after) {
  // In node id order, whatever order the view has: the share order of the participants.
  std::vector<MemberStatus> sorted = status.members;
  std::sort(sorted.begin(), sorted.end(),
            [](const MemberStatus& a, const MemberStatus& b) { return a.node_id < b.node_id; });
  std::vector<std::string> members;  // "id (region)", for the messages
  std::vector<std::string> unidentified;
  for (const auto& m : sorted) {
    if (m.membership == "spare") continue;
    if (Unidentified(m, status)) {
      unidentified.push_back(m.node_id);
      members.push_back(m.node_id + " (not heard from yet)");
    } else {
      members.push_back(m.node_id + " (region " + m.region + ")");
    }
  }
  for (const std::string& id : section.ids) {
    const bool known = std::any_of(status.members.begin(), status.members.end(),
                                   [&](const MemberStatus& m) { return m.node_id == id; });
    if (!known && unidentified.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "cluster.nodes.ids: '" + id +
                           "' is not a member of the cluster; members: " + Join(members));
    }
  }
  ParticipantChoice choice;
  for (const auto& m : sorted) {
    if (m.membership == "spare" || Unidentified(m, status)) continue;
    if (!section.any_node() && !Contains(section.ids, m.node_id) &&
        !Contains(section.regions, m.region)) {
      continue;
    }
    choice.eligible.push_back(m.node_id);
    if (m.node_id == status.node_id || (m.last_contact && *m.last_contact <= lost_after)) {
      choice.ready.push_back(m.node_id);
    }
  }
  choice.unidentified = unidentified;
  if (choice.eligible.empty() && unidentified.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cluster.nodes: matches no member that may take part (regions [" +
                         Join(section.regions) + "], ids [" + Join(section.ids) +
                         "]); members: " + Join(members));
  }
  if (section.min_nodes > choice.eligible.size() + unidentified.size()) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "cluster.minNodes: " + std::to_string(section.min_nodes) +
            " nodes can never be ready: only " +
            std::to_string(choice.eligible.size() + unidentified.size()) +
            " member(s) may take part (" + Join(choice.eligible) +
            (unidentified.empty() ? "" : "; not heard from yet: " + Join(unidentified)) + ")");
  }
  return choice;
}

StartDecision DecideStart(const config::ClusterSection& section, const ParticipantChoice& choice,
                          Nanos submitted_unix, Nanos now_unix) {
  StartDecision d;
  const size_t needed = std::max<size_t>(1, section.min_nodes);
  if (choice.ready.size() >= needed) {
    d.kind = StartDecision::Kind::kStart;
    d.participants = choice.ready;
    return d;
  }
  const std::string status = std::to_string(choice.ready.size()) + " of " + std::to_string(needed) +
                             " node(s) ready (" + Join(choice.ready) + ")";
  if (submitted_unix <= Nanos(0) || now_unix - submitted_unix > section.min_nodes_timeout) {
    d.kind = StartDecision::Kind::kEnd;
    d.reason = "not started: cluster.minNodes " + std::to_string(needed) +
               " was not reached within cluster.minNodesTimeout " +
               Seconds(section.min_nodes_timeout) + " of the submission; " + status +
               "; nothing ran";
    return d;
  }
  d.reason = "waiting for cluster.minNodes: " + status;
  return d;
}

std::vector<std::string> SilentParticipants(const RunRecord& run, const ClusterStatus& status,
                                            Nanos now_unix, std::chrono::milliseconds lost_after) {
  std::vector<std::string> out;
  if (!run.start_unix || !run.active()) return out;
  const Nanos started_for = now_unix - *run.start_unix;
  for (const std::string& id : run.submit.participants) {
    if (id == status.node_id || run.outcomes.count(id)) continue;
    bool silent = started_for > lost_after;
    for (const auto& m : status.members) {
      if (m.node_id == id && m.last_contact) silent = *m.last_contact > lost_after;
    }
    if (silent) out.push_back(id);
  }
  return out;
}

}  // namespace volley::cluster
