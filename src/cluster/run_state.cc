#include "volley/cluster/run_state.h"

#include <algorithm>

namespace volley::cluster {
namespace {

Error Refused(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

// Ends the run once every participant has an outcome.
void MaybeEnd(RunRecord& run) {
  if (run.phase == RunPhase::kPlanned) return;
  if (run.outcomes.size() == run.submit.participants.size()) run.phase = RunPhase::kEnded;
}

}  // namespace

const char* RunPhaseName(RunPhase phase) {
  switch (phase) {
    case RunPhase::kPlanned:
      return "planned";
    case RunPhase::kStarted:
      return "started";
    case RunPhase::kStopping:
      return "stopping";
    case RunPhase::kEnded:
      return "ended";
  }
  return "?";
}

std::optional<uint32_t> RunRecord::ShareOf(std::string_view node_id) const {
  const auto& p = submit.participants;
  const auto it = std::find(p.begin(), p.end(), node_id);
  if (it == p.end()) return std::nullopt;
  return static_cast<uint32_t>(it - p.begin());
}

RunRecord* RunStateMachine::Find(const std::string& run_id, const char* what, Error* error) {
  RunRecord* run = runs_.empty() ? nullptr : &runs_.back();
  if (!run || run->submit.run_id != run_id) {
    *error = Refused(std::string(what) + " for run '" + run_id + "', which is not the current run" +
                     (run ? " ('" + run->submit.run_id + "')" : std::string(" (there is none)")));
    return nullptr;
  }
  if (run->phase == RunPhase::kEnded) {
    *error = Refused(std::string(what) + " for run '" + run_id + "', which has ended");
    return nullptr;
  }
  return run;
}

Result<void> RunStateMachine::Apply(const RunCommand& command) {
  Error error;
  if (const auto* submit = std::get_if<SubmitRun>(&command)) {
    if (const RunRecord* run = current(); run && run->active()) {
      return tl::unexpected(Refused("run '" + submit->run_id + "' submitted while run '" +
                                    run->submit.run_id + "' is " + RunPhaseName(run->phase) +
                                    "; stop it first"));
    }
    for (const RunRecord& r : runs_) {
      if (r.submit.run_id == submit->run_id) {
        return tl::unexpected(Refused("run id '" + submit->run_id + "' was used before"));
      }
    }
    RunRecord run;
    run.submit = *submit;
    runs_.push_back(std::move(run));
    if (runs_.size() > kHistory) runs_.erase(runs_.begin());
    return {};
  }
  if (const auto* start = std::get_if<StartRun>(&command)) {
    RunRecord* run = Find(start->run_id, "start", &error);
    if (!run) return tl::unexpected(error);
    if (run->start_unix) {
      return tl::unexpected(Refused("run '" + start->run_id + "' has a start instant already"));
    }
    if (run->phase != RunPhase::kPlanned) {
      return tl::unexpected(Refused("run '" + start->run_id + "' was stopped before its start"));
    }
    run->start_unix = start->start_unix;
    run->phase = RunPhase::kStarted;
    MaybeEnd(*run);  // outcomes committed before the start (lost nodes) count
    return {};
  }
  if (const auto* stop = std::get_if<StopRun>(&command)) {
    RunRecord* run = Find(stop->run_id, "stop", &error);
    if (!run) return tl::unexpected(error);
    if (run->phase == RunPhase::kStopping) {
      return tl::unexpected(Refused("run '" + stop->run_id + "' is stopping already"));
    }
    run->stop_reason = stop->reason.empty() ? "stopped" : stop->reason;
    if (run->phase == RunPhase::kPlanned) {
      run->phase = RunPhase::kEnded;  // nothing started: nothing to wait for
    } else {
      run->phase = RunPhase::kStopping;
      MaybeEnd(*run);
    }
    return {};
  }
  const auto& done = std::get<NodeDone>(command);
  RunRecord* run = Find(done.run_id, "done", &error);
  if (!run) return tl::unexpected(error);
  if (!run->ShareOf(done.node_id)) {
    return tl::unexpected(
        Refused("node '" + done.node_id + "' does not take part in run '" + done.run_id + "'"));
  }
  if (run->outcomes.count(done.node_id)) {
    return tl::unexpected(
        Refused("node '" + done.node_id + "' has an outcome in run '" + done.run_id + "' already"));
  }
  run->outcomes[done.node_id] = NodeOutcome{done.lost, done.summary_json};
  MaybeEnd(*run);
  return {};
}

}  // namespace volley::cluster
