// RunAgent (see run_agent.h). The Raft thread only applies commands to the state machine
// and queues work; everything that blocks (proposals, clock samples, a share's start) runs
// on the agent's own thread, which also ticks every 200 ms for the coordinator's watch over
// silent participants and for retrying this node's NodeDone until the log has it.
#include "volley/cluster/run_agent.h"

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "volley/cluster/clock_offset.h"
#include "volley/config/plan_split.h"

namespace volley::cluster {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kTick{200};
constexpr milliseconds kRpcTimeout{5000};

int64_t WallNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Agent final : public RunAgent {
 public:
  Agent(RunAgentOptions o, RunExecutor& executor) : options_(std::move(o)), executor_(executor) {}
  ~Agent() override { Detach(); }

  ClusterHooks Hooks() override {
    ClusterHooks h;
    h.apply = [this](uint16_t type, std::string_view payload, uint64_t index) {
      OnApply(type, payload, index);
    };
    h.snapshot = [this] {
      std::lock_guard<std::mutex> lock(mu_);
      return sm_.Serialize();
    };
    h.restore = [this](std::string_view bytes) {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto r = sm_.Restore(bytes); !r) {
        fprintf(stderr, "volley cluster: run state in the snapshot ignored: %s\n",
                r.error().message.c_str());
      }
    };
    h.submit = [this](const std::string& yaml, const std::string& name) {
      return CoordinateSubmit(yaml, name);
    };
    return h;
  }

  void Attach(ClusterNode& node) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (thread_.joinable()) return;
    node_ = &node;
    thread_ = std::thread([this] { Loop(); });
  }

  void Detach() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!thread_.joinable()) return;
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  Result<std::string> Submit(const std::string& yaml, const std::string& name) override {
    ClusterNode* node = Node();
    if (node == nullptr) return MakeError(ErrorCode::kIo, "the cluster is not started");
    return node->SubmitPlan(yaml, name, std::chrono::seconds(30));
  }

  Result<void> Stop(const std::string& reason) override {
    std::string run_id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const RunRecord* r = sm_.current();
      if (r == nullptr || !r->active()) {
        return MakeError(ErrorCode::kInvalidArgument, "no cluster run is active");
      }
      run_id = r->submit.run_id;
    }
    ClusterNode* node = Node();
    if (node == nullptr) return MakeError(ErrorCode::kIo, "the cluster is not started");
    auto r = node->ProposeOnLeader(kRunEntryType, EncodeRunCommand(StopRun{run_id, reason}),
                                   kRpcTimeout);
    if (!r) return tl::unexpected(r.error());
    return {};
  }

  std::string RunJson() const override {
    std::lock_guard<std::mutex> lock(mu_);
    nlohmann::json j;
    const RunRecord* r = sm_.current();
    if (r == nullptr) {
      j["run"] = nullptr;
      return j.dump();
    }
    j["run_id"] = r->submit.run_id;
    j["phase"] = RunPhaseName(r->phase);
    j["distribution"] = config::DistributionName(r->submit.distribution);
    j["plan_name"] = r->submit.plan_name;
    if (r->start_unix) j["start_unix_ms"] = r->start_unix->count() / 1'000'000;
    if (!r->stop_reason.empty()) j["stop_reason"] = r->stop_reason;
    j["participants"] = nlohmann::json::array();
    const size_t n = r->submit.participants.size();
    for (size_t i = 0; i < n; ++i) {
      const std::string& id = r->submit.participants[i];
      nlohmann::json p;
      p["node_id"] = id;
      p["share"] = std::to_string(i) + "/" + std::to_string(n);
      auto it = r->outcomes.find(id);
      if (it == r->outcomes.end()) {
        p["outcome"] = r->start_unix ? "running" : "planned";
      } else {
        p["outcome"] = it->second.lost ? "lost" : "done";
        auto summary = nlohmann::json::parse(it->second.summary_json, nullptr, false);
        p["summary"] = summary.is_discarded() ? nlohmann::json(it->second.summary_json) : summary;
      }
      j["participants"].push_back(std::move(p));
    }
    if (offset_run_ == r->submit.run_id) {
      j["clock_offset"] = {
          {"node_id", options_.node_id},
          {"offset_ms", static_cast<double>(offset_.offset.count()) / 1e6},
          {"uncertainty_ms", static_cast<double>(offset_.uncertainty.count()) / 1e6},
          {"samples", offset_.samples},
          {"start_local_in_ms", static_cast<double>(start_local_lead_.count()) / 1e6}};
    }
    return j.dump();
  }

 private:
  ClusterNode* Node() {
    std::lock_guard<std::mutex> lock(mu_);
    return node_;
  }

  void Post(std::function<void()> task) {  // REQUIRES: mu_ held
    tasks_.push_back(std::move(task));
    cv_.notify_all();
  }

  std::string MarkerPath(const std::string& run_id) const {
    return options_.data_dir + "/run-" + run_id + ".started";
  }

  // ---- Raft thread ----

  void OnApply(uint16_t type, std::string_view payload, uint64_t index) {
    if (type != kRunEntryType) return;
    auto command = DecodeRunCommand(payload);
    if (!command) {
      fprintf(stderr, "volley cluster: log index %llu: ignored a run entry: %s\n",
              static_cast<unsigned long long>(index), command.error().message.c_str());
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (auto r = sm_.Apply(*command); !r) {
      fprintf(stderr, "volley cluster: log index %llu: run command refused: %s\n",
              static_cast<unsigned long long>(index), r.error().message.c_str());
      return;
    }
    const RunRecord* rec = sm_.current();
    if (std::holds_alternative<StartRun>(*command) && rec->ShareOf(options_.node_id)) {
      Post([this, copy = *rec] { BeginShare(copy); });
    } else if (const auto* stop = std::get_if<StopRun>(&*command)) {
      if (running_here_ == stop->run_id) {
        Post([this, id = stop->run_id] { executor_.StopShare(id); });
      }
    } else if (const auto* submit = std::get_if<SubmitRun>(&*command)) {
      fprintf(stderr, "volley cluster: run %s submitted (%s, %zu participants)\n",
              submit->run_id.c_str(), config::DistributionName(submit->distribution),
              submit->participants.size());
    }
    if (rec->phase == RunPhase::kEnded && rec->submit.run_id != ended_logged_) {
      ended_logged_ = rec->submit.run_id;
      fprintf(stderr, "volley cluster: run %s ended\n", rec->submit.run_id.c_str());
    }
  }

  // ---- the agent's thread ----

  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      if (tasks_.empty()) cv_.wait_for(lock, kTick);
      while (!tasks_.empty() && !stopping_) {
        auto task = std::move(tasks_.front());
        tasks_.pop_front();
        lock.unlock();
        task();
        lock.lock();
      }
      if (stopping_) break;
      lock.unlock();
      Tick();
      lock.lock();
    }
  }

  // Measures the offset to the leader, then starts this node's share at the start instant.
  void BeginShare(const RunRecord& rec) {
    const std::string& id = rec.submit.run_id;
    std::error_code ec;
    if (std::filesystem::exists(MarkerPath(id), ec)) {
      fprintf(stderr,
              "volley cluster: run %s: already started on this node before a restart; "
              "not starting it again\n",
              id.c_str());
      return;
    }
    const uint32_t index = *rec.ShareOf(options_.node_id);
    const auto n = static_cast<uint32_t>(rec.submit.participants.size());
    auto plan = options_.parse(rec.submit.plan_yaml, rec.submit.plan_name);
    Result<config::TestPlan> share =
        plan ? config::SharePlan(*plan, rec.submit.distribution, index, n)
             : Result<config::TestPlan>(tl::unexpected(plan.error()));
    if (!share)
      return Finish(id, "{\"error\":" + nlohmann::json(share.error().message).dump() + "}");
    share->run_id = id;
    if (!config::TakesPart(*share)) return Finish(id, "{\"skipped\":\"no share of the plan\"}");
    std::vector<ClockSample> samples;
    for (int i = 0; i < options_.clock_samples; ++i) {
      auto s = node_->SampleLeaderClock(kRpcTimeout);
      if (s) samples.push_back(ClockSample{Nanos(s->t0), Nanos(s->t3), Nanos(s->t1), Nanos(s->t2)});
    }
    auto offset = EstimateOffset(samples);
    if (!offset) {
      fprintf(stderr,
              "volley cluster: run %s: no clock sample from the leader (%s); starting "
              "on this node's wall clock\n",
              id.c_str(), offset.error().message.c_str());
      ClockOffset local;
      local.offset = Nanos(WallNanos()) - MonotonicNow();
      offset = local;
    }
    const Nanos start_local = offset->LocalAt(*rec.start_unix);
    {
      std::lock_guard<std::mutex> lock(mu_);
      offset_ = *offset;
      offset_run_ = id;
      start_local_lead_ = start_local - MonotonicNow();
    }
    fprintf(stderr,
            "volley cluster: run %s: share %u/%u; clock offset to the leader %+.3f ms "
            "(+/- %.3f ms, %zu samples); starting in %.1f ms\n",
            id.c_str(), index, n, static_cast<double>(offset->offset.count()) / 1e6,
            static_cast<double>(offset->uncertainty.count()) / 1e6, offset->samples,
            static_cast<double>((start_local - MonotonicNow()).count()) / 1e6);
    std::ofstream(MarkerPath(id)) << "started\n";  // before the start: never twice
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_here_ = id;
    }
    auto started = executor_.StartShare(
        std::move(*share), start_local, [this, id](Result<std::string> summary) {
          Finish(id, summary
                         ? *summary
                         : "{\"error\":" + nlohmann::json(summary.error().message).dump() + "}");
        });
    if (!started) {
      Finish(id, "{\"error\":" + nlohmann::json(started.error().message).dump() + "}");
    }
  }

  // Queues this node's NodeDone; Tick retries it until the log has an outcome for it.
  void Finish(const std::string& run_id, std::string summary_json) {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_here_ == run_id) running_here_.clear();
    pending_done_ = NodeDone{run_id, options_.node_id, false, std::move(summary_json)};
    cv_.notify_all();
  }

  void Tick() {
    std::optional<RunRecord> rec;
    std::optional<NodeDone> done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (const RunRecord* r = sm_.current(); r != nullptr && r->active()) rec = *r;
      if (rec && pending_done_ && pending_done_->run_id == rec->submit.run_id &&
          !rec->outcomes.count(options_.node_id)) {
        done = pending_done_;
      }
      // Restarted during a share it had started: report it interrupted (never run twice).
      std::error_code ec;
      if (rec && !done && rec->start_unix && rec->ShareOf(options_.node_id) &&
          !rec->outcomes.count(options_.node_id) && running_here_ != rec->submit.run_id &&
          !pending_done_ && std::filesystem::exists(MarkerPath(rec->submit.run_id), ec)) {
        done = NodeDone{rec->submit.run_id, options_.node_id, true,
                        "{\"interrupted\":\"the node restarted during its share\"}"};
      }
    }
    if (!rec) return;
    if (done) {
      auto r = node_->ProposeOnLeader(kRunEntryType, EncodeRunCommand(*done), kRpcTimeout);
      if (!r) {
        fprintf(stderr, "volley cluster: run %s: reporting done failed (retrying): %s\n",
                done->run_id.c_str(), r.error().message.c_str());
      }
    }
    const ClusterStatus status = node_->Status();
    if (!status.coordinator || !rec->start_unix) return;
    // The coordinator's watch: a participant silent past lost_after is declared lost.
    const Nanos started_for = Nanos(WallNanos()) - *rec->start_unix;
    for (const std::string& id : rec->submit.participants) {
      if (id == options_.node_id || rec->outcomes.count(id)) continue;
      bool silent = started_for > options_.lost_after;
      for (const auto& m : status.members) {
        if (m.node_id == id && m.last_contact) silent = *m.last_contact > options_.lost_after;
      }
      if (!silent) continue;
      fprintf(stderr,
              "volley cluster: run %s: %s silent for more than %lld ms: declared lost "
              "(its share is not re-assigned)\n",
              rec->submit.run_id.c_str(), id.c_str(),
              static_cast<long long>(options_.lost_after.count()));
      node_->ProposeOnLeader(
          kRunEntryType, EncodeRunCommand(NodeDone{rec->submit.run_id, id, true, ""}), kRpcTimeout);
    }
  }

  // ---- the coordinator, on a gRPC thread or the submitter's ----

  Result<std::string> CoordinateSubmit(const std::string& yaml, const std::string& name) {
    std::lock_guard<std::mutex> one_at_a_time(submit_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (const RunRecord* r = sm_.current(); r != nullptr && r->active()) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "run " + r->submit.run_id + " is still " + RunPhaseName(r->phase) +
                             "; POST /cluster/stop first or wait for its end");
      }
    }
    auto plan = options_.parse(yaml, name);  // validated once, here, before anything starts
    if (!plan) return tl::unexpected(plan.error());
    ClusterNode* node = Node();
    if (node == nullptr) return MakeError(ErrorCode::kIo, "the cluster is not started");
    const ClusterStatus status = node->Status();
    SubmitRun submit;
    submit.run_id = "run-" + std::to_string(WallNanos() / 1000);
    submit.plan_yaml = yaml;
    submit.plan_name = name;
    submit.distribution = options_.distribution;
    for (const auto& m : status.members) {
      if (m.membership == "spare") continue;
      if (m.node_id == options_.node_id ||
          (m.last_contact && *m.last_contact <= options_.lost_after)) {
        submit.participants.push_back(m.node_id);
      }
    }
    const std::string run_id = submit.run_id;
    auto committed =
        node->ProposeOnLeader(kRunEntryType, EncodeRunCommand(RunCommand{submit}), kRpcTimeout);
    if (!committed) return tl::unexpected(committed.error());
    const Nanos start(WallNanos() + std::chrono::nanoseconds(options_.start_delay).count());
    auto started = node->ProposeOnLeader(kRunEntryType, EncodeRunCommand(StartRun{run_id, start}),
                                         kRpcTimeout);
    if (!started) return tl::unexpected(started.error());
    return run_id;
  }

  const RunAgentOptions options_;
  RunExecutor& executor_;
  std::mutex submit_mu_;  // one submission at a time on the coordinator

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_:
  RunStateMachine sm_;
  ClusterNode* node_ = nullptr;  // set once by Attach, before the thread starts
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
  std::string running_here_;  // the run whose share this process runs
  std::optional<NodeDone> pending_done_;
  ClockOffset offset_;
  std::string offset_run_;
  Nanos start_local_lead_{0};  // how far ahead the start was when it was computed
  std::string ended_logged_;
};

}  // namespace

std::unique_ptr<RunAgent> RunAgent::Create(RunAgentOptions options, RunExecutor& executor) {
  return std::make_unique<Agent>(std::move(options), executor);
}

}  // namespace volley::cluster
