// `volley run --cluster` (run_cluster.cc): the thin client of a cluster run. cli internal.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/result.h"

namespace volley::cli {

struct ClusterRunOptions {
  std::string nodes;           // --cluster: HOST:PORT[,HOST:PORT...] of the nodes' control APIs
  std::string plan_path;       // the YAML plan, sent as it is (the nodes apply their environment)
  std::string summary_export;  // --summary-export: the report's JSON summary, or empty
  bool quiet = false;          // no progress lines
  // --cluster-timeout: how long no node may answer before the client gives up (exit 1).
  Nanos unreachable_after = std::chrono::seconds(30);
  // After a Ctrl-C: how long to wait for the run's end (the nodes' drain) and its report.
  Nanos stop_wait = std::chrono::seconds(60);
};

// The addresses of --cluster, "http://" and a trailing '/' accepted. kInvalidArgument
// naming every entry that is not HOST:PORT.
Result<std::vector<std::string>> ParseClusterAddresses(std::string_view list);

// Submits the plan, follows the run and prints its report. The exit code: 0, 99 (a threshold
// failed), 2 (the plan was refused, or a bad flag or token), 1 (no node reachable for
// unreachable_after, or no report), 130 (Ctrl-C: the run was stopped; its report is still
// printed when it comes within stop_wait). Installs the Ctrl-C handling for its duration:
// the second Ctrl-C exits 130 at once. Call from the main thread, before other threads.
int RunCluster(const ClusterRunOptions& options);

}  // namespace volley::cli
