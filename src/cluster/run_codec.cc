// RunCommand and RunStateMachine state <-> volley.v1 protobuf messages (run.proto). Every
// decoded value is checked here, so the state machine only sees well-formed commands.
#include <set>

#include "volley/cluster/run_state.h"
#include "volley/v1/run.pb.h"

namespace volley::cluster {
namespace {

constexpr size_t kMaxParticipants = 4096;

Error Bad(const std::string& what) { return Error{ErrorCode::kProtocol, "run command: " + what}; }

void ToProto(const SubmitRun& s, v1::SubmitRun* p) {
  p->set_run_id(s.run_id);
  p->set_plan_yaml(s.plan_yaml);
  p->set_plan_name(s.plan_name);
  p->set_distribution(config::DistributionName(s.distribution));
  for (const std::string& n : s.participants) p->add_participants(n);
}

void ToProto(const NodeDone& d, v1::NodeDone* p) {
  p->set_run_id(d.run_id);
  p->set_node_id(d.node_id);
  p->set_lost(d.lost);
  p->set_summary_json(d.summary_json);
}

Result<SubmitRun> FromProto(const v1::SubmitRun& p) {
  SubmitRun s;
  if (p.run_id().empty()) return tl::unexpected(Bad("submit without a run id"));
  s.run_id = p.run_id();
  s.plan_yaml = p.plan_yaml();
  s.plan_name = p.plan_name();
  auto d = config::ParseDistribution(p.distribution());
  if (!d) return tl::unexpected(Bad("submit of '" + s.run_id + "': " + d.error().message));
  s.distribution = *d;
  if (p.participants_size() == 0) {
    return tl::unexpected(Bad("submit of '" + s.run_id + "' without participants"));
  }
  if (static_cast<size_t>(p.participants_size()) > kMaxParticipants) {
    return tl::unexpected(Bad("submit of '" + s.run_id + "' with more than 4096 participants"));
  }
  std::set<std::string> seen;
  for (const std::string& n : p.participants()) {
    if (n.empty() || !seen.insert(n).second) {
      return tl::unexpected(
          Bad("submit of '" + s.run_id + "': empty or repeated participant '" + n + "'"));
    }
    s.participants.push_back(n);
  }
  return s;
}

Result<NodeDone> FromProto(const v1::NodeDone& p) {
  if (p.run_id().empty() || p.node_id().empty()) {
    return tl::unexpected(Bad("done without a run id or node id"));
  }
  return NodeDone{p.run_id(), p.node_id(), p.lost(), p.summary_json()};
}

Result<RunPhase> PhaseFrom(const std::string& name) {
  for (RunPhase ph :
       {RunPhase::kPlanned, RunPhase::kStarted, RunPhase::kStopping, RunPhase::kEnded}) {
    if (name == RunPhaseName(ph)) return ph;
  }
  return tl::unexpected(Bad("unknown run phase '" + name + "'"));
}

}  // namespace

std::string EncodeRunCommand(const RunCommand& command) {
  v1::RunCommand p;
  if (const auto* s = std::get_if<SubmitRun>(&command)) {
    ToProto(*s, p.mutable_submit());
  } else if (const auto* st = std::get_if<StartRun>(&command)) {
    p.mutable_start()->set_run_id(st->run_id);
    p.mutable_start()->set_start_unix_nanos(st->start_unix.count());
  } else if (const auto* stop = std::get_if<StopRun>(&command)) {
    p.mutable_stop()->set_run_id(stop->run_id);
    p.mutable_stop()->set_reason(stop->reason);
  } else {
    ToProto(std::get<NodeDone>(command), p.mutable_done());
  }
  return p.SerializeAsString();
}

Result<RunCommand> DecodeRunCommand(std::string_view bytes) {
  v1::RunCommand p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return tl::unexpected(
        Bad("not a volley.v1.RunCommand (" + std::to_string(bytes.size()) + " bytes)"));
  }
  switch (p.command_case()) {
    case v1::RunCommand::kSubmit: {
      auto s = FromProto(p.submit());
      if (!s) return tl::unexpected(s.error());
      return RunCommand(std::move(*s));
    }
    case v1::RunCommand::kStart:
      if (p.start().run_id().empty()) return tl::unexpected(Bad("start without a run id"));
      return RunCommand(StartRun{p.start().run_id(), Nanos(p.start().start_unix_nanos())});
    case v1::RunCommand::kStop:
      if (p.stop().run_id().empty()) return tl::unexpected(Bad("stop without a run id"));
      return RunCommand(StopRun{p.stop().run_id(), p.stop().reason()});
    case v1::RunCommand::kDone: {
      auto d = FromProto(p.done());
      if (!d) return tl::unexpected(d.error());
      return RunCommand(std::move(*d));
    }
    case v1::RunCommand::COMMAND_NOT_SET:
      break;
  }
  return tl::unexpected(Bad("no command set (a newer node's command?)"));
}

std::string RunStateMachine::Serialize() const {
  v1::RunStateSnapshot snap;
  for (const RunRecord& r : runs_) {
    v1::RunRecordState* p = snap.add_runs();
    ToProto(r.submit, p->mutable_submit());
    p->set_phase(RunPhaseName(r.phase));
    p->set_has_start(r.start_unix.has_value());
    if (r.start_unix) p->set_start_unix_nanos(r.start_unix->count());
    p->set_stop_reason(r.stop_reason);
    for (const auto& [node, outcome] : r.outcomes) {
      ToProto(NodeDone{r.submit.run_id, node, outcome.lost, outcome.summary_json},
              p->add_outcomes());
    }
  }
  return snap.SerializeAsString();
}

Result<void> RunStateMachine::Restore(std::string_view bytes) {
  v1::RunStateSnapshot snap;
  if (!snap.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return tl::unexpected(Bad("snapshot is not a volley.v1.RunStateSnapshot"));
  }
  if (static_cast<size_t>(snap.runs_size()) > kHistory) {
    return tl::unexpected(Bad("snapshot holds more than 16 runs"));
  }
  std::vector<RunRecord> runs;
  for (const v1::RunRecordState& p : snap.runs()) {
    RunRecord r;
    auto submit = FromProto(p.submit());
    if (!submit) return tl::unexpected(submit.error());
    r.submit = std::move(*submit);
    auto phase = PhaseFrom(p.phase());
    if (!phase) return tl::unexpected(phase.error());
    r.phase = *phase;
    if (p.has_start()) r.start_unix = Nanos(p.start_unix_nanos());
    r.stop_reason = p.stop_reason();
    for (const v1::NodeDone& o : p.outcomes()) {
      auto done = FromProto(o);
      if (!done) return tl::unexpected(done.error());
      if (!r.ShareOf(done->node_id)) {
        return tl::unexpected(Bad("snapshot: outcome of a node that does not take part"));
      }
      r.outcomes[done->node_id] = NodeOutcome{done->lost, done->summary_json};
    }
    runs.push_back(std::move(r));
  }
  runs_ = std::move(runs);
  return {};
}

}  // namespace volley::cluster
