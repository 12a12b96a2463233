#include "node_cluster_config.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "node_cluster.h"

namespace volley::cli {

ConfigSourceRunner::ConfigSourceRunner(cluster::ConfigSourceOptions options, NodeCluster& cluster)
    : options_(std::move(options)), cluster_(cluster) {
  fprintf(stderr, "volley cluster: the coordinator takes its plan from %s\n",
          options_.Describe().c_str());
  thread_ = std::thread([this] { Loop(); });
}

void ConfigSourceRunner::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string ConfigSourceRunner::Json() const {
  std::lock_guard<std::mutex> l(mu_);
  return nlohmann::json{{"source", options_.Describe()},
                        {"state", state_},
                        {"last_error", error_},
                        {"version", version_},
                        {"run_id", run_id_}}
      .dump();
}

void ConfigSourceRunner::Record(std::string state, std::string error, std::string version,
                                std::string run_id) {
  std::lock_guard<std::mutex> l(mu_);
  if (!error.empty() && error != error_) {
    fprintf(stderr, "volley cluster: %s\n", error.c_str());
  }
  state_ = std::move(state);
  error_ = std::move(error);
  version_ = std::move(version);
  run_id_ = std::move(run_id);
}

void ConfigSourceRunner::Loop() {
  bool coordinating = false;
  auto next = std::chrono::steady_clock::now();
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::milliseconds(200), [&] { return stop_; });
      if (stop_) return;
    }
    cluster::ClusterNode* node = cluster_.Node();
    if (node == nullptr || !node->Status().coordinator) {
      coordinating = false;
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!coordinating) next = now;  // took office: look at once
    coordinating = true;
    if (now < next) continue;
    next = now + options_.poll;
    Attempt();
  }
}

void ConfigSourceRunner::Attempt() {
  const auto run = nlohmann::json::parse(cluster_.agent->RunJson(), nullptr, false);
  const bool active = run.is_object() && run.contains("phase") && run["phase"] != "ended";
  if (active) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    state_ = "fetching";
  }
  auto plan = cluster::FetchPlan(options_);
  if (!plan) return Record("error", plan.error().message, "", "");
  const std::string last =
      run.is_object() && run.contains("plan_name") && run["plan_name"].is_string()
          ? run["plan_name"].get<std::string>()
          : "";
  if (last == plan->name) {
    return Record("already_ran", "", plan->version, run.value("run_id", ""));
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    if (refused_version_ == plan->version) {
      state_ = "error";
      return;  // the same invalid plan: said once, not submitted again
    }
  }
  auto id = cluster_.agent->Submit(plan->yaml, plan->name);
  if (!id) {
    const bool invalid = id.error().code == ErrorCode::kInvalidArgument;
    if (invalid) {
      std::lock_guard<std::mutex> l(mu_);
      refused_version_ = plan->version;
    }
    return Record("error",
                  "config source " + options_.Describe() + ": " +
                      (invalid ? "the plan is invalid; nothing started:\n"
                               : "the cluster could not take the plan: ") +
                      id.error().message,
                  plan->version, "");
  }
  fprintf(stderr, "volley cluster: %s: submitted version %s as run %s\n",
          options_.Describe().c_str(), plan->version.c_str(), id->c_str());
  Record("submitted", "", plan->version, *id);
}

}  // namespace volley::cli
