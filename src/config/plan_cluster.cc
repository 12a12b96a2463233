// The plan's `cluster:` section (ClusterSection): read with positions like the rest of the
// plan, checked as a whole by CheckClusterSection.
#include <set>

#include "plan_reader.h"
#include "volley/config/cluster_section.h"
#include "volley/config/plan_split.h"

namespace volley::config {
namespace {

constexpr size_t kMaxSubset = 4096;  // as many as a cluster may have participants

}  // namespace

// A list of distinct, non-empty names: `regions: [eu, us]` or a single `ids: n1`.
void PlanReader::NameList(const YAML::Node& n, const std::string& path,
                          std::vector<std::string>& out) {
  Mark(n, path);
  std::vector<YAML::Node> items;
  if (n.IsScalar()) {
    items.push_back(n);
  } else if (n.IsSequence()) {
    for (const auto& item : n) items.push_back(item);
  } else {
    return Problem(n, path, "must be a list of names, e.g. [eu-west, us-east]");
  }
  if (items.empty()) return Problem(n, path, "must name at least one (or leave it out)");
  if (items.size() > kMaxSubset) return Problem(n, path, "names more than 4096");
  std::set<std::string> seen;
  for (const YAML::Node& item : items) {
    auto text = Text(item, path);
    if (!text) continue;
    const std::string name(Trim(*text));
    if (name.empty()) {
      Problem(item, path, "an empty name");
    } else if (!seen.insert(name).second) {
      Problem(item, path, "'" + name + "' is listed twice");
    } else {
      out.push_back(name);
    }
  }
}

void PlanReader::Cluster(const YAML::Node& c, TestPlan& plan) {
  if (!IsMap(c, "cluster")) return;
  CheckKeys(c, "cluster", {"distribution", "minNodes", "minNodesTimeout", "nodes", "startDelay"});
  Mark(c, "cluster");
  ClusterSection& cs = plan.cluster;
  if (const YAML::Node d = c["distribution"]) {
    Mark(d, "cluster.distribution");
    if (auto text = Text(d, "cluster.distribution")) {
      auto dist = ParseDistribution(Trim(*text));
      dist ? void(cs.distribution = *dist)
           : Problem(d, "cluster.distribution",
                     "expected divide (the nodes' shares sum to the plan) or replicate (every "
                     "node runs the whole plan), got '" +
                         *text + "'");
    }
  }
  uint64_t min_nodes = cs.min_nodes;
  Number(c, "minNodes", "cluster", min_nodes, 1);
  if (min_nodes > kMaxSubset) {
    Problem(c["minNodes"], "cluster.minNodes", "must be <= 4096, got " + c["minNodes"].Scalar());
  } else {
    cs.min_nodes = static_cast<uint32_t>(min_nodes);
  }
  Duration(c, "minNodesTimeout", "cluster", cs.min_nodes_timeout);
  if (c["minNodesTimeout"] && cs.min_nodes_timeout <= Nanos(0)) {
    Problem(c["minNodesTimeout"], "cluster.minNodesTimeout", "must be > 0, e.g. 30s");
  }
  if (c["startDelay"]) {
    Nanos delay{0};
    Duration(c, "startDelay", "cluster", delay);
    if (delay > std::chrono::hours(1)) {
      Problem(c["startDelay"], "cluster.startDelay",
              "must be at most 1h (the time every node has to receive the plan)");
    }
    cs.start_delay = delay;
  }
  if (const YAML::Node n = c["nodes"]) {
    if (!IsMap(n, "cluster.nodes")) return;
    CheckKeys(n, "cluster.nodes", {"regions", "ids"});
    Mark(n, "cluster.nodes");
    if (const YAML::Node r = n["regions"]) NameList(r, "cluster.nodes.regions", cs.regions);
    if (const YAML::Node i = n["ids"]) NameList(i, "cluster.nodes.ids", cs.ids);
    if (!n["regions"] && !n["ids"]) {
      Problem(n, "cluster.nodes", "name regions: [...] and/or ids: [...] (or leave nodes out)");
    }
  }
}

Result<void> CheckClusterSection(const TestPlan& plan) {
  const ClusterSection& cs = plan.cluster;
  Problems problems;
  if (cs.regions.empty() && !cs.ids.empty() && cs.min_nodes > cs.ids.size()) {
    const auto it = plan.origins.find("cluster.minNodes");
    const std::string where =
        (it == plan.origins.end() ? std::string() : it->second + ": ") + "cluster.minNodes";
    problems.Add(where, "can never be reached: cluster.nodes.ids allows " +
                            std::to_string(cs.ids.size()) + " node(s), minNodes asks for " +
                            std::to_string(cs.min_nodes) + "; lower minNodes or list more ids");
  }
  return problems.Done();
}

}  // namespace volley::config
