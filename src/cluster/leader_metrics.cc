#include "volley/cluster/leader_metrics.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "volley/metrics/names.h"

namespace volley::cluster {
namespace {

constexpr size_t kMaxLoggedRefusals = 100;  // then only counted
constexpr size_t kKeptRuns = 8;             // runs whose checkpoints are kept

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool HasRegion(const metrics::SeriesKey& key) {
  for (const auto& [k, v] : key.labels) {
    if (k == "region") return true;
  }
  return false;
}

}  // namespace

LeaderMetrics::LeaderMetrics(LeaderMetricsOptions options)
    : options_(std::move(options)), aggregator_(options_.aggregator) {}

void LeaderMetrics::NoteRun(const std::string& run_id, Nanos now) {
  if (!run_first_.emplace(run_id, now).second) return;
  current_run_ = run_id;
  // A long-lived cluster runs test after test: keep the checkpoints of the newest runs only.
  while (run_first_.size() > kKeptRuns) {
    auto oldest = run_first_.begin();
    for (auto it = run_first_.begin(); it != run_first_.end(); ++it) {
      if (it->second < oldest->second) oldest = it;
    }
    const std::string gone = oldest->first;
    run_first_.erase(oldest);
    std::erase_if(applied_, [&gone](const auto& e) { return e.first.first == gone; });
    std::erase_if(proposed_, [&gone](const auto& e) { return e.first.first == gone; });
  }
}

Result<Aggregator::OfferResult> LeaderMetrics::OnBatch(const std::string& caller,
                                                       std::string_view bytes, Nanos now) {
  auto batch = wire::node::DecodeMetricsBatch(bytes, options_.limits);
  if (batch && batch->id.node_id != caller) {
    batch =
        MakeError(ErrorCode::kProtocol, "node '" + caller + "' sent a batch in the name of node '" +
                                            batch->id.node_id + "'");
  }
  if (!batch) {
    std::lock_guard<std::mutex> lock(mu_);
    if (++refused_ <= kMaxLoggedRefusals) {
      fprintf(stderr, "volley cluster: refused a metrics batch from '%s' (%zu bytes): %s\n",
              caller.c_str(), bytes.size(), batch.error().message.c_str());
    }
    return tl::unexpected(batch.error());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    NoteRun(batch->id.run_id, now);
  }
  return aggregator_.Offer(std::move(*batch), now);
}

void LeaderMetrics::ApplyCheckpoint(std::string_view payload, Nanos now) {
  auto cp = wire::node::DecodeNodeCheckpoint(payload, options_.limits);
  if (!cp) {
    fprintf(stderr, "volley cluster: ignored a metrics checkpoint entry: %s\n",
            cp.error().message.c_str());
    return;
  }
  const auto& id = cp->batch.id;
  std::lock_guard<std::mutex> lock(mu_);
  NoteRun(id.run_id, now);
  auto& slot = applied_[{id.run_id, id.node_id}];
  if (slot.second.empty() || id.seq > slot.first) slot = {id.seq, std::string(payload)};
  (void)aggregator_.RestoreCheckpoint(payload, now);
}

std::vector<std::string> LeaderMetrics::DueCheckpoints(const std::string& self, Nanos now) {
  std::string run;
  {
    std::lock_guard<std::mutex> lock(mu_);
    run = current_run_;
  }
  std::vector<std::string> out;
  if (run.empty()) return out;
  for (const NodeView& n : aggregator_.Nodes(run, now)) {
    if (!n.degraded && !n.final && n.node_id != self) continue;
    const Key key{run, n.node_id};
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto a = applied_.find(key);
      if (a != applied_.end() && a->second.first >= n.seq) continue;
      auto p = proposed_.find(key);
      if (p != proposed_.end() && p->second.first >= n.seq &&
          now - p->second.second < options_.repropose_after) {
        continue;
      }
      proposed_[key] = {n.seq, now};
    }
    auto bytes = aggregator_.Checkpoint(run, n.node_id, now);
    if (bytes) out.push_back(std::move(*bytes));
  }
  return out;
}

std::string LeaderMetrics::State() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  PutU32(out, static_cast<uint32_t>(applied_.size()));
  for (const auto& [key, v] : applied_) {
    PutU32(out, static_cast<uint32_t>(v.second.size()));
    out += v.second;
  }
  return out;
}

Result<void> LeaderMetrics::Restore(std::string_view state, Nanos now) {
  auto u32 = [&state](uint32_t* v) {
    if (state.size() < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v |= uint32_t{static_cast<unsigned char>(state[i])} << (8 * i);
    state.remove_prefix(4);
    return true;
  };
  uint32_t n = 0;
  if (!u32(&n)) return MakeError(ErrorCode::kProtocol, "metrics checkpoints state: truncated");
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t len = 0;
    if (!u32(&len) || len > state.size()) {
      return MakeError(ErrorCode::kProtocol,
                       "metrics checkpoints state: truncated checkpoint " + std::to_string(i));
    }
    ApplyCheckpoint(state.substr(0, len), now);
    state.remove_prefix(len);
  }
  return {};
}

std::optional<std::string> LeaderMetrics::LastCheckpoint(const std::string& run_id,
                                                         const std::string& node_id,
                                                         Nanos now) const {
  auto bytes = aggregator_.Checkpoint(run_id, node_id, now);
  if (!bytes) return std::nullopt;
  return std::move(*bytes);
}

std::string LeaderMetrics::CurrentRun() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_run_;
}

uint64_t LeaderMetrics::refused() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_;
}

Result<std::string> LeaderMetrics::LiveJson(const std::string& leader_id, Nanos now) const {
  std::string run;
  Nanos first{0};
  {
    std::lock_guard<std::mutex> lock(mu_);
    run = current_run_;
    if (!run.empty()) first = run_first_.at(run);
  }
  if (run.empty()) return MakeError(ErrorCode::kNotFound, "no node has reported metrics yet");
  const metrics::Snapshot merged = aggregator_.Merged(run, now);
  metrics::Snapshot global;
  for (const auto& [key, value] : merged) {
    if (!HasRegion(key)) global.Put(key, value);
  }
  const double requests = global.SumCounter(metrics::names::kRequests);
  const double seconds = std::chrono::duration<double>(now - first).count();
  const metrics::Histogram latency = global.MergedTrend(metrics::names::kDuration);
  auto ms = [&latency](double q) {
    return latency.count() == 0 ? 0.0 : latency.Percentile(q) * 1e3;
  };
  nlohmann::json degraded = nlohmann::json::array();
  size_t reporting = 0;
  for (const NodeView& n : aggregator_.Nodes(run, now)) {
    if (n.degraded) {
      degraded.push_back(n.node_id);
    } else {
      ++reporting;
    }
  }
  nlohmann::json j;
  j["run_id"] = run;
  j["leader_id"] = leader_id;
  j["requests"] = static_cast<uint64_t>(std::llround(requests));
  j["errors"] = static_cast<uint64_t>(std::llround(global.SumCounter(metrics::names::kErrors)));
  j["rps"] = seconds > 0 ? requests / seconds : 0.0;
  j["p50_ms"] = ms(50);
  j["p95_ms"] = ms(95);
  j["p99_ms"] = ms(99);
  j["reporting_nodes"] = reporting;
  j["degraded"] = degraded;
  return j.dump();
}

}  // namespace volley::cluster
