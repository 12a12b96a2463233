// The run settings of a cluster node from its environment (CLUSTER_START_DELAY,
// CLUSTER_LOST_AFTER, CLUSTER_DISTRIBUTION): the defaults a plan's `cluster:` section may
// override. Checked with the node's other options, before any port opens.
#include "node_cluster.h"
#include "volley/common/duration.h"
#include "volley/common/problems.h"
#include "volley/common/strings.h"
#include "volley/config/plan_split.h"

namespace volley::cli {

Result<ClusterRunDefaults> ClusterRunDefaultsFromEnv(const EnvLookup& env) {
  ClusterRunDefaults out;
  Problems p;
  auto millis = [&](const char* name, std::chrono::milliseconds min,
                    std::chrono::milliseconds& value) {
    const char* v = env(name);
    if (v == nullptr || Trim(v).empty()) return;
    auto d = ParseDurationMillisDefault(Trim(v));
    if (!d) {
      return p.Add(name,
                   "expected a duration such as 2000 (ms) or 2s, got '" + std::string(v) + "'");
    }
    if (*d < min || *d > std::chrono::hours(1)) {
      return p.Add(name, "must be between " + std::to_string(min.count()) + "ms and 1h, got '" +
                             std::string(v) + "'");
    }
    value = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  };
  millis("CLUSTER_START_DELAY", std::chrono::milliseconds(0), out.start_delay);
  millis("CLUSTER_LOST_AFTER", std::chrono::milliseconds(1), out.lost_after);
  if (const char* d = env("CLUSTER_DISTRIBUTION"); d != nullptr && !Trim(d).empty()) {
    auto dist = config::ParseDistribution(Trim(d));
    dist ? void(out.distribution = *dist)
         : p.Add("CLUSTER_DISTRIBUTION",
                 "expected divide or replicate, got '" + std::string(d) + "'");
  }
  if (!p.empty()) return tl::unexpected(p.ToError());
  return out;
}

}  // namespace volley::cli
