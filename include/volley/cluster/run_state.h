// A cluster's test runs as the Raft log decides them (DESIGN.md §5, Cluster II). The
// coordinator commits commands (submit a plan, start at T, stop, node done); every node
// applies the same committed sequence to a RunStateMachine and so knows the same plan, the
// same start instant and what has been decided, also after a restart or a failover.
//
// Conflicting commands can be committed (two leaders of different terms each proposed a
// start, a retried proposal landed twice); the state machine settles them the same way on
// every node: the first committed wins, a later conflicting one is refused and changes
// nothing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/result.h"
#include "volley/config/plan_split.h"

namespace volley::cluster {

struct SubmitRun {
  std::string run_id;
  std::string plan_yaml;  // as submitted; the leader validated it before committing
  std::string plan_name;  // for positions in messages
  config::Distribution distribution = config::Distribution::kDivide;
  std::vector<std::string> participants;  // node ids; share i goes to participants[i]
};
struct StartRun {
  std::string run_id;
  Nanos start_unix{0};  // on the leader's wall clock
};
struct StopRun {
  std::string run_id;
  std::string reason;
};
struct NodeDone {
  std::string run_id;
  std::string node_id;
  bool lost = false;         // declared lost by the coordinator, not reported by the node
  std::string summary_json;  // the node's final local summary (empty when lost)
};
using RunCommand = std::variant<SubmitRun, StartRun, StopRun, NodeDone>;

// The log entry payload of a command (volley.v1.RunCommand, proto/volley/v1/run.proto).
std::string EncodeRunCommand(const RunCommand& command);
// kProtocol for bytes that are not a RunCommand, or one with a missing or invalid field
// (empty run id, unknown distribution, no participants, duplicate participants).
Result<RunCommand> DecodeRunCommand(std::string_view bytes);

enum class RunPhase {
  kPlanned,   // submitted, no start committed yet
  kStarted,   // start committed; participants run their shares
  kStopping,  // stop committed; waiting for every participant's outcome
  kEnded,     // every participant is done or lost
};
const char* RunPhaseName(RunPhase phase);

struct NodeOutcome {
  bool lost = false;
  std::string summary_json;
};

struct RunRecord {
  SubmitRun submit;
  RunPhase phase = RunPhase::kPlanned;
  std::optional<Nanos> start_unix;
  std::string stop_reason;                      // empty unless stopped
  std::map<std::string, NodeOutcome> outcomes;  // by node id, participants only

  bool active() const { return phase != RunPhase::kEnded; }
  // The share index of `node_id`, or nullopt when it does not take part.
  std::optional<uint32_t> ShareOf(std::string_view node_id) const;
};

// Applies committed run commands. Not thread-safe: confined to the thread that applies the
// Raft log (copy the records out for other threads).
class RunStateMachine {
 public:
  // How many ended runs are kept (the oldest are forgotten first).
  static constexpr size_t kHistory = 16;

  // Applies one committed command. A command that conflicts with what the log decided
  // earlier is refused with kInvalidArgument naming the conflict, and changes nothing:
  // - a submit while another run is active, or with a run id used before;
  // - a start, stop or done for a run that is not the current one, or has ended;
  // - a second start of a run (the first committed instant stands);
  // - a start after a stop; a done from a node that is not a participant, or a second one.
  Result<void> Apply(const RunCommand& command);

  // The newest run, or nullptr before the first submit.
  const RunRecord* current() const { return runs_.empty() ? nullptr : &runs_.back(); }
  // Every remembered run, oldest first (the current one last).
  const std::vector<RunRecord>& runs() const { return runs_; }

  // The whole state as bytes (for Raft snapshots), and back. Restore replaces the state;
  // on error (kProtocol) the state is unchanged.
  std::string Serialize() const;
  Result<void> Restore(std::string_view bytes);

 private:
  RunRecord* Find(const std::string& run_id, const char* what, Error* error);

  std::vector<RunRecord> runs_;
};

}  // namespace volley::cluster
