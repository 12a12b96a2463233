// Cluster III on a `volley node` (see node_cluster_metrics.h).
#include "node_cluster_metrics.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace volley::cli {
namespace {

// Marks a Raft snapshot state that carries the metrics checkpoints after the run agent's
// state; a state without it is the run agent's alone (as before Cluster III).
constexpr std::string_view kStateMagic = "VLYCKPT1";
constexpr auto kSendTimeout = std::chrono::seconds(2);
// How long a node keeps offering its final batch while no leader takes it.
constexpr auto kFinalFor = std::chrono::seconds(30);
constexpr auto kFinalRetry = std::chrono::milliseconds(200);

Result<Nanos> SecondsFromEnv(const EnvLookup& env, const char* name, Nanos fallback) {
  const char* v = env(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  errno = 0;
  const double s = std::strtod(v, &end);
  if (end == v || *end != '\0' || errno != 0 || !std::isfinite(s) || s <= 0 || s > 86400) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        std::string(name) + ": expected seconds above 0 (e.g. 5 or 0.5), got '" + v + "'");
  }
  return std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(s));
}

}  // namespace

Result<ClusterMetricsOptions> ClusterMetricsOptionsFromEnv(const EnvLookup& env,
                                                           std::string node_id,
                                                           std::string region) {
  ClusterMetricsOptions o;
  o.node_id = std::move(node_id);
  o.region = std::move(region);
  auto flush = SecondsFromEnv(env, "METRICS_FLUSH_INTERVAL_SECS", o.flush_interval);
  auto timeout = SecondsFromEnv(env, "CLUSTER_METRICS_TIMEOUT_SECS", o.timeout);
  std::string problems;
  for (const auto* r : {&flush, &timeout}) {
    if (!*r) problems += (problems.empty() ? "" : "\n") + r->error().message;
  }
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems);
  o.flush_interval = *flush;
  o.timeout = *timeout;
  return o;
}

ClusterMetrics::ClusterMetrics(ClusterMetricsOptions options, cluster::RunExecutor& executor)
    : options_(std::move(options)),
      executor_(executor),
      leader_(cluster::LeaderMetricsOptions{.aggregator = {.degraded_after = options_.timeout}}) {}

ClusterMetrics::~ClusterMetrics() { Stop(); }

void ClusterMetrics::Wrap(cluster::ClusterHooks& hooks) {
  hooks.apply = [this, apply = std::move(hooks.apply)](uint16_t type, std::string_view payload,
                                                       uint64_t index) {
    if (type == cluster::kCheckpointEntryType)
      return leader_.ApplyCheckpoint(payload, MonotonicNow());
    if (apply) apply(type, payload, index);
  };
  hooks.snapshot = [this, snapshot = std::move(hooks.snapshot)] {
    std::string agent = snapshot ? snapshot() : std::string();
    const std::string mine = leader_.State();
    if (mine == std::string(4, '\0')) return agent;  // no checkpoints: the agent's alone
    std::string out(kStateMagic);
    const uint64_t n = agent.size();
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    return out + agent + mine;
  };
  hooks.restore = [this, restore = std::move(hooks.restore)](std::string_view state) {
    std::string_view agent = state;
    if (state.size() >= kStateMagic.size() + 8 &&
        state.substr(0, kStateMagic.size()) == kStateMagic) {
      uint64_t n = 0;
      for (int i = 0; i < 8; ++i) {
        n |= uint64_t{static_cast<unsigned char>(state[kStateMagic.size() + i])} << (8 * i);
      }
      const std::string_view rest = state.substr(kStateMagic.size() + 8);
      if (n <= rest.size()) {
        agent = rest.substr(0, n);
        if (auto r = leader_.Restore(rest.substr(n), MonotonicNow()); !r) {
          fprintf(stderr, "volley cluster: metrics checkpoints in the snapshot ignored: %s\n",
                  r.error().message.c_str());
        }
      }
    }
    if (restore) restore(agent);
  };
  hooks.metrics = [this](const std::string& caller, std::string_view batch) -> Result<void> {
    auto r = leader_.OnBatch(caller, batch, MonotonicNow());
    if (!r) return tl::unexpected(r.error());
    return {};
  };
  hooks.live = [this]() -> Result<std::string> {
    return leader_.LiveJson(options_.node_id, MonotonicNow());
  };
}

std::optional<std::string> ClusterMetrics::LastCheckpoint(const std::string& run_id,
                                                          const std::string& node_id) {
  return leader_.LastCheckpoint(run_id, node_id, MonotonicNow());
}

void ClusterMetrics::ShareStarted(const std::string& run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  run_ = run_id;
  ended_ = false;
  seq_ = 0;
}

void ClusterMetrics::ShareEnded(const std::string& run_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (run_ != run_id) return;
    ended_ = true;
    final_deadline_ = MonotonicNow() + kFinalFor;
  }
  cv_.notify_all();
}

void ClusterMetrics::Start(cluster::ClusterNode& node) {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stop_) return;
  node_ = &node;
  thread_ = std::thread([this] { Run(); });
}

void ClusterMetrics::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ClusterMetrics::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  bool final_due_now = false;
  while (!stop_) {
    const Nanos wait = final_due_now ? Nanos(kFinalRetry) : options_.flush_interval;
    const bool was_ended = ended_;
    cv_.wait_for(lock, wait, [&] { return stop_ || (ended_ && !was_ended); });
    if (stop_) break;
    const std::string run = run_;
    const bool final = ended_;
    const uint64_t seq = ++seq_;
    lock.unlock();
    bool sent = false;
    if (!run.empty()) {
      if (auto snap = executor_.LiveSnapshot(run)) {
        wire::node::MetricsBatch batch;
        batch.id = {options_.node_id,
                    options_.region,
                    run,
                    seq,
                    std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count(),
                    final};
        batch.snapshot = std::move(*snap);
        auto bytes = wire::node::EncodeMetricsBatch(batch);
        if (!bytes) {
          fprintf(stderr, "volley cluster: metrics batch %llu not sent: %s\n",
                  static_cast<unsigned long long>(seq), bytes.error().message.c_str());
        } else if (auto r = node_->SendMetricsToLeader(*bytes, kSendTimeout, final); !r) {
          fprintf(stderr,
                  "volley cluster: metrics batch %llu not delivered (the next one will "
                  "carry it): %s\n",
                  static_cast<unsigned long long>(seq), r.error().message.c_str());
        } else {
          sent = true;
        }
      }
    }
    if (node_->Status().coordinator) {
      for (std::string& cp : leader_.DueCheckpoints(options_.node_id, MonotonicNow())) {
        node_->Propose(cluster::kCheckpointEntryType, std::move(cp), [](Result<uint64_t>) {});
      }
    }
    lock.lock();
    final_due_now = false;
    if (final && run_ == run) {
      if (sent || MonotonicNow() > final_deadline_) {
        run_.clear();
        ended_ = false;
      } else {
        final_due_now = true;
      }
    }
  }
}

std::optional<std::string> ClusterMetrics::RenderLeader(
    const output::ExpositionOptions& base) const {
  if (node_ == nullptr || !node_->Status().coordinator) return std::nullopt;
  const std::string run = leader_.CurrentRun();
  if (run.empty()) return std::nullopt;
  output::ExpositionOptions o = base;
  o.const_labels = {{"run_id", run}};
  return output::RenderPrometheus(leader_.Merged(run, MonotonicNow()), o);
}

Result<std::string> ClusterMetrics::Live() const {
  if (node_ == nullptr) return MakeError(ErrorCode::kNotFound, "the cluster is not started");
  return node_->LeaderLive(kSendTimeout);
}

void AddClusterLiveRoute(http::Router& router, const ClusterMetrics& metrics) {
  router.Handle(
      "GET", "/cluster/live",
      [&metrics](const http::Request&, http::Response& res) {
        res.content_type = "application/json";
        auto live = metrics.Live();
        if (!live) {
          res.status = 404;
          res.body = nlohmann::json{{"error", "no live figures: " + live.error().message}}.dump();
          return;
        }
        res.status = 200;
        res.body = std::move(*live);
      },
      http::RouteOptions{.blocking = true});
}

}  // namespace volley::cli
