// GET /cluster/report (contracts §3): the final report of a cluster run from the log's
// NodeDone checkpoints, merged with cluster::Aggregator.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "cluster_report.h"
#include "commands.h"
#include "control_api.h"
#include "node_cluster.h"
#include "volley/cluster/aggregator.h"
#include "volley/metrics/names.h"
#include "volley/plan/plan_check.h"
#include "volley/wire/volley_metrics.h"

namespace volley::cli {
namespace {

constexpr const char* kRegion = "region";

double Seconds(Nanos n) { return static_cast<double>(n.count()) / 1e9; }

// One row of the region and node tables.
struct Row {
  std::string name;
  std::string region;
  std::string outcome;  // nodes: done | lost | (no snapshot)
  bool snapshot = false;
  size_t checkpoint_bytes = 0;  // of its NodeDone checkpoint in the log
  Nanos elapsed{0};
  Nanos degraded{0};
  output::Summary summary;
  std::vector<std::string> nodes;  // regions: their node ids
};

bool NamesRegion(const metrics::CompiledThreshold& t) {
  for (const auto& [key, value] : t.source.filter) {
    if (key == kRegion) return true;
  }
  return false;
}

// The merged snapshot split: the global series (no region label) and, per region, that
// region's series with the region label removed.
struct Split {
  metrics::Snapshot global;
  std::map<std::string, metrics::Snapshot> regions;
};
Split SplitByRegion(const metrics::Snapshot& merged) {
  Split out;
  for (const auto& [key, value] : merged) {
    auto it = std::find_if(key.labels.begin(), key.labels.end(),
                           [](const auto& l) { return l.first == kRegion; });
    if (it == key.labels.end()) {
      out.global.Put(key, value);
      continue;
    }
    metrics::Labels rest = key.labels;
    rest.erase(rest.begin() + (it - key.labels.begin()));
    out.regions[it->second].Put(metrics::SeriesKey(key.name, std::move(rest)), value);
  }
  return out;
}

// How long a node's share ran: its summary's duration, else (a lost node) from the start
// instant to its checkpoint's sending.
Nanos NodeElapsed(const cluster::RunRecord& run, const cluster::NodeOutcome& outcome,
                  const std::optional<wire::node::NodeCheckpoint>& checkpoint) {
  auto j = nlohmann::json::parse(outcome.summary_json, nullptr, false);
  if (j.is_object() && j.contains("duration_s") && j["duration_s"].is_number()) {
    return Nanos(static_cast<int64_t>(j["duration_s"].get<double>() * 1e9));
  }
  if (checkpoint && run.start_unix) {
    return std::max(Nanos(0), Nanos(checkpoint->batch.id.sent_unix_nanos) - *run.start_unix);
  }
  return Nanos(0);
}

// What the nodes' summaries say of the cluster's engines: threads and connections, added.
void AddEngines(const cluster::RunRecord& run, engine::RunInfo& info) {
  for (const auto& [node, outcome] : run.outcomes) {
    auto j = nlohmann::json::parse(outcome.summary_json, nullptr, false);
    if (!j.is_object()) continue;
    for (auto [key, sum] :
         {std::pair{"threads", &info.threads}, {"connections", &info.connections}}) {
      if (j.contains(key) && j[key].is_number_integer()) *sum += j[key].get<int>();
    }
  }
}

output::RunFacts Facts(const config::TestPlan* plan, const cluster::RunRecord& run, Nanos elapsed) {
  engine::RunInfo info;
  info.elapsed = elapsed;
  info.interrupted = !run.stop_reason.empty();
  AddEngines(run, info);
  if (plan == nullptr) {
    output::RunFacts facts;
    facts.elapsed = elapsed;
    facts.interrupted = info.interrupted;
    facts.threads = info.threads;
    facts.connections = info.connections;
    return facts;
  }
  if (info.connections == 0) info.connections = plan->workers;
  info.open_model = plan->load.kind != config::LoadModelKind::kConcurrent;
  return FinalSummary(*plan, info, {}, {}).facts;
}

std::string Ms(double seconds) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.2f", seconds * 1e3);
  return buf;
}

std::string Table(const char* title, const std::vector<Row>& rows, bool nodes) {
  std::string out = std::string("\n") + title + "\n";
  char line[320];
  snprintf(line, sizeof line, "  %-20s %-10s %12s %10s %8s %9s %9s %9s %9s %10s%s\n",
           nodes ? "node" : "region", nodes ? "region" : "nodes", "requests", "rps", "errors",
           "p50 ms", "p95 ms", "p99 ms", "max ms", "degraded", nodes ? "  outcome" : "");
  out += line;
  for (const Row& r : rows) {
    const output::Summary& s = r.summary;
    const std::string second = nodes ? r.region : std::to_string(r.nodes.size());
    snprintf(line, sizeof line, "  %-20s %-10s %12llu %10.1f %8llu %9s %9s %9s %9s %9.1fs%s\n",
             r.name.c_str(), second.c_str(), static_cast<unsigned long long>(s.requests_total),
             s.rps, static_cast<unsigned long long>(s.errors_total), Ms(s.latency.p50).c_str(),
             Ms(s.latency.p95).c_str(), Ms(s.latency.p99).c_str(), Ms(s.latency.max).c_str(),
             Seconds(r.degraded), nodes ? ("  " + r.outcome).c_str() : "");
    out += line;
  }
  return out;
}

nlohmann::json RowJson(const Row& r, bool nodes) {
  const output::Summary& s = r.summary;
  nlohmann::json j;
  if (nodes) {
    j["node_id"] = r.name;
    j["region"] = r.region;
    j["outcome"] = r.outcome;
    j["snapshot"] = r.snapshot;
    j["checkpoint_bytes"] = r.checkpoint_bytes;
  } else {
    j["region"] = r.name;
    j["nodes"] = r.nodes;
  }
  j["requests"] = s.requests_total;
  j["rps"] = s.rps;
  j["errors"] = s.errors_total;
  j["duration_s"] = Seconds(r.elapsed);
  j["latency_ms"] = {{"p50", s.latency.p50 * 1e3},
                     {"p95", s.latency.p95 * 1e3},
                     {"p99", s.latency.p99 * 1e3},
                     {"max", s.latency.max * 1e3}};
  j["degraded_s"] = Seconds(r.degraded);
  return j;
}

}  // namespace

ClusterReport BuildClusterReport(const cluster::RunRecord& run, const config::TestPlan* plan) {
  ClusterReport report;
  report.run_id = run.submit.run_id;
  const Nanos now = MonotonicNow();
  cluster::Aggregator aggregator;
  std::vector<Row> nodes;
  std::vector<std::string> lost;
  std::vector<std::string> unmeasured;  // done, sent requests, but no snapshot in the log
  Nanos elapsed{0};
  for (const std::string& id : run.submit.participants) {
    Row row;
    row.name = id;
    auto it = run.outcomes.find(id);
    const cluster::NodeOutcome outcome =
        it == run.outcomes.end() ? cluster::NodeOutcome{true, "", ""} : it->second;
    row.outcome = outcome.lost ? "lost" : "done";
    if (outcome.lost) lost.push_back(id);
    std::optional<wire::node::NodeCheckpoint> checkpoint;
    if (!outcome.checkpoint.empty()) {
      // The codec checked it when the log applied it; refuse again rather than trust.
      auto c = wire::node::DecodeNodeCheckpoint(outcome.checkpoint);
      if (c && aggregator.RestoreCheckpoint(outcome.checkpoint, now)) checkpoint = std::move(*c);
    }
    row.elapsed = NodeElapsed(run, outcome, checkpoint);
    elapsed = std::max(elapsed, row.elapsed);
    if (checkpoint) {
      row.snapshot = true;
      row.checkpoint_bytes = outcome.checkpoint.size();
      row.region = checkpoint->batch.id.region;
    } else {
      row.outcome += " (no snapshot)";
      auto j = nlohmann::json::parse(outcome.summary_json, nullptr, false);
      if (!outcome.lost && j.is_object() && j.contains("requests_total") &&
          j["requests_total"].is_number() && j["requests_total"].get<double>() > 0) {
        unmeasured.push_back(id);
      }
    }
    nodes.push_back(std::move(row));
  }
  for (const cluster::NodeView& v : aggregator.Nodes(run.submit.run_id, now)) {
    for (Row& row : nodes) {
      if (row.name != v.node_id) continue;
      row.degraded = v.degraded_total;
      row.summary = output::Summarize(*v.snapshot, Facts(plan, run, row.elapsed));
    }
  }
  for (Row& row : nodes) {
    if (!row.snapshot) row.summary = output::Summarize({}, Facts(plan, run, row.elapsed));
  }
  const metrics::Snapshot merged = aggregator.Merged(run.submit.run_id, now);
  const Split split = SplitByRegion(merged);
  output::Summary global = output::Summarize(split.global, Facts(plan, run, elapsed));
  std::vector<Row> regions;
  for (const auto& [region, snapshot] : split.regions) {
    Row row;
    row.name = region;
    for (const Row& n : nodes) {
      if (!n.snapshot || n.region != region) continue;
      row.nodes.push_back(n.name);
      row.elapsed = std::max(row.elapsed, n.elapsed);
      row.degraded += n.degraded;
    }
    row.summary = output::Summarize(snapshot, Facts(plan, run, row.elapsed));
    regions.push_back(std::move(row));
  }
  std::string threshold_note;
  if (plan != nullptr) {
    auto thresholds = plan::CompileThresholds(*plan);
    if (!thresholds) {
      threshold_note = "thresholds not evaluated: " + thresholds.error().message + "\n";
    } else {
      for (const auto& t : *thresholds) {
        const metrics::Snapshot& on = NamesRegion(t) ? merged : split.global;
        for (auto& r : metrics::Evaluate(t, on, elapsed)) global.thresholds.push_back(r);
      }
    }
  } else {
    threshold_note = "thresholds not evaluated: the plan did not parse on this node\n";
  }
  report.partial = !lost.empty() || !unmeasured.empty();
  report.exit_code = global.thresholds_failed() ? kExitThresholds : kExitOk;

  std::string text = "cluster run " + run.submit.run_id + ": " +
                     std::to_string(run.submit.participants.size()) + " nodes, " +
                     config::DistributionName(run.submit.distribution) +
                     (run.stop_reason.empty() ? "" : ", stopped (" + run.stop_reason + ")") + "\n";
  text += output::FormatReport(global) + threshold_note;
  text += Table("Per region:", regions, false);
  text += Table("Per node:", nodes, true);
  auto list = [](const std::vector<std::string>& ids) {
    std::string out;
    for (const std::string& id : ids) out += (out.empty() ? "" : ", ") + id;
    return out;
  };
  if (!lost.empty()) {
    text += "\nLost nodes: " + list(lost) +
            " (their shares were not re-assigned; a lost node counts its last committed "
            "snapshot, or nothing without one)\n";
  }
  if (!unmeasured.empty()) {
    text +=
        "\nNodes whose final snapshot is not in the log (their summaries say they sent "
        "requests; the totals miss them): " +
        list(unmeasured) + "\n";
  }
  if (report.partial) {
    text += "PARTIAL RESULT: " + std::to_string(lost.size() + unmeasured.size()) + " of " +
            std::to_string(run.submit.participants.size()) +
            " nodes were lost or not measured; the totals miss what they did not report\n";
  }
  report.text = std::move(text);

  nlohmann::json j = output::ToJson(global);
  j["run_id"] = run.submit.run_id;
  j["partial"] = report.partial;
  j["lost_nodes"] = lost;
  j["unmeasured_nodes"] = unmeasured;
  j["regions"] = nlohmann::json::array();
  for (const Row& r : regions) j["regions"].push_back(RowJson(r, false));
  j["nodes"] = nlohmann::json::array();
  for (const Row& r : nodes) j["nodes"].push_back(RowJson(r, true));
  report.summary = std::move(j);
  return report;
}

nlohmann::json ClusterReportJson(const ClusterReport& report) {
  return {{"run_id", report.run_id},
          {"partial", report.partial},
          {"exit_code", report.exit_code},
          {"text", report.text},
          {"summary", report.summary}};
}

void PrintClusterReport(const cluster::RunRecord& run) {
  auto plan = NodePlanFrom(run.submit.plan_yaml, run.submit.plan_name);
  const ClusterReport report = BuildClusterReport(run, plan ? &*plan : nullptr);
  printf("cluster report %s (exit code %d)\n%s", report.run_id.c_str(), report.exit_code,
         report.text.c_str());
  fflush(stdout);
}

void AddClusterReportRoute(http::Router& router, NodeCluster& cluster) {
  const http::RouteOptions off_the_loop{.blocking = true};  // parses the plan, merges
  router.Handle(
      "GET", "/cluster/report",
      [&cluster](const http::Request&, http::Response& res) {
        res.content_type = "application/json";
        const std::optional<cluster::RunRecord> run = cluster.agent->CurrentRun();
        if (!run) {
          res.status = 404;
          res.body =
              nlohmann::json{{"error", "no cluster run yet: POST /cluster/config first"}}.dump();
          return;
        }
        if (run->active()) {
          res.status = 409;
          res.body = nlohmann::json{{"error", "run " + run->submit.run_id + " is " +
                                                  cluster::RunPhaseName(run->phase) +
                                                  "; its report comes at its end"},
                                    {"phase", cluster::RunPhaseName(run->phase)}}
                         .dump();
          return;
        }
        auto plan = NodePlanFrom(run->submit.plan_yaml, run->submit.plan_name);
        res.status = 200;
        res.body = ClusterReportJson(BuildClusterReport(*run, plan ? &*plan : nullptr)).dump();
      },
      off_the_loop);
}

}  // namespace volley::cli
