// `volley cluster status --node ADDR`: a node's GET /health/cluster as a table.

#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "volley/common/http_client.h"

namespace volley::cli {
namespace {

std::string Text(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return "-";
  if (j[key].is_string())
    return j[key].get<std::string>().empty() ? "-" : j[key].get<std::string>();
  return j[key].dump();
}

}  // namespace

Runner RegisterCluster(CLI::App& app) {
  auto node = std::make_shared<std::string>("127.0.0.1:8080");
  CLI::App* cmd = app.add_subcommand("cluster", "Inspect a cluster of volley nodes");
  cmd->require_subcommand(1);
  CLI::App* status =
      cmd->add_subcommand("status", "Print a node's cluster view (GET /health/cluster) as a table");
  status->add_option("--node", *node, "The node's control address host:port (127.0.0.1:8080)");
  return [node]() -> int {
    http::HttpClient client;
    http::ClientRequest req;
    req.method = "GET";
    req.url = "http://" + *node + "/health/cluster";
    req.connect_timeout = std::chrono::seconds(3);
    req.timeout = std::chrono::seconds(5);
    auto res = client.Send(req);
    if (!res) {
      return ReportError(Error{ErrorCode::kIo, "cannot reach http://" + *node +
                                                   "/health/cluster: " + res.error().message +
                                                   " (is `volley node` running there? --node "
                                                   "takes its CLUSTER_HEALTH_ADDR)"},
                         "cluster status");
    }
    if (res->status == 404) {
      return ReportError(
          Error{ErrorCode::kNotFound, *node + " runs without cluster mode "
                                              "(start it with CLUSTER_ENABLED=true)"},
          "cluster status");
    }
    auto j = nlohmann::json::parse(res->body, nullptr, false);
    if (res->status != 200 || j.is_discarded() || !j.is_object()) {
      return ReportError(
          Error{ErrorCode::kProtocol,
                *node + " answered HTTP " + std::to_string(res->status) + " without cluster JSON"},
          "cluster status");
    }
    printf("node %s (region %s) at %s\n", Text(j, "node_id").c_str(), Text(j, "region").c_str(),
           Text(j, "address").c_str());
    printf("state %s  term %s  leader %s  peers %s  cluster_ready %s\n\n", Text(j, "state").c_str(),
           Text(j, "term").c_str(), Text(j, "leader_id").c_str(), Text(j, "peers").c_str(),
           Text(j, "cluster_ready").c_str());
    printf("%-24s %-22s %-12s %-10s %s\n", "MEMBER", "ADDRESS", "REGION", "ROLE", "LAST CONTACT");
    for (const char* group : {"voters", "standbys"}) {
      if (!j.contains(group) || !j[group].is_array()) continue;
      for (const auto& m : j[group]) {
        const std::string contact =
            m.contains("last_contact_ms") && m["last_contact_ms"].is_number()
                ? m["last_contact_ms"].dump() + " ms ago"
                : "never";
        printf("%-24s %-22s %-12s %-10s %s\n", Text(m, "node_id").c_str(),
               Text(m, "address").c_str(), Text(m, "region").c_str(), Text(m, "membership").c_str(),
               contact.c_str());
      }
    }
    // The cluster's run (GET /cluster/run), when the node serves it.
    req.url = "http://" + *node + "/cluster/run";
    auto run = client.Send(req);
    auto r = run && run->status == 200 ? nlohmann::json::parse(run->body, nullptr, false)
                                       : nlohmann::json();
    if (r.is_object() && r.contains("run_id")) {
      printf("\nrun %s  phase %s  distribution %s  start (leader's clock) %s ms since epoch\n",
             Text(r, "run_id").c_str(), Text(r, "phase").c_str(), Text(r, "distribution").c_str(),
             Text(r, "start_unix_ms").c_str());
      if (r.contains("clock_offset")) {
        printf("this node's clock offset to the leader: %s ms (+/- %s ms)\n",
               r["clock_offset"]["offset_ms"].dump().c_str(),
               r["clock_offset"]["uncertainty_ms"].dump().c_str());
      }
      printf("%-24s %-8s %s\n", "PARTICIPANT", "SHARE", "OUTCOME");
      for (const auto& p : r["participants"]) {
        printf("%-24s %-8s %s\n", Text(p, "node_id").c_str(), Text(p, "share").c_str(),
               Text(p, "outcome").c_str());
      }
    } else if (r.is_object()) {
      printf("\nno cluster run yet\n");
    }
    return kExitOk;
  };
}

}  // namespace volley::cli
