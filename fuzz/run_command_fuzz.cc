// Fuzzes the cluster's run commands as a node applies them from the Raft log, and the run
// state of a Raft snapshot (bytes that reach a node from a peer): the first byte picks the
// decoder. A decoded command re-encodes to a command that decodes the same way; applying
// commands never breaks the state machine's invariants (a kept NodeDone checkpoint decodes
// and names its node and run; only the newest runs keep theirs).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "volley/cluster/run_state.h"
#include "volley/wire/volley_metrics.h"

using volley::cluster::DecodeRunCommand;
using volley::cluster::EncodeRunCommand;
using volley::cluster::RunPhase;
using volley::cluster::RunStateMachine;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  RunStateMachine sm;
  if (data[0] & 1) {
    if (sm.Restore(bytes)) {
      FUZZ_CHECK(sm.runs().size() <= RunStateMachine::kHistory);
      RunStateMachine again;
      FUZZ_CHECK(again.Restore(sm.Serialize()).has_value());
      FUZZ_CHECK(again.Serialize() == sm.Serialize());
    }
    return 0;
  }
  // Several commands, each prefixed by a one-byte length.
  size_t at = 0;
  while (at < bytes.size()) {
    const size_t n = static_cast<uint8_t>(bytes[at++]);
    const std::string_view one = bytes.substr(at, n);
    at += one.size();
    auto command = DecodeRunCommand(one);
    if (!command) continue;
    auto again = DecodeRunCommand(EncodeRunCommand(*command));
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(EncodeRunCommand(*again) == EncodeRunCommand(*command));
    (void)sm.Apply(*command);
    if (const auto* run = sm.current()) {
      FUZZ_CHECK(run->outcomes.size() <= run->submit.participants.size());
      FUZZ_CHECK(run->phase != RunPhase::kStarted || run->start_unix.has_value());
      // Every kept checkpoint is one the report can merge: it decodes and is that node's.
      for (const auto& [node, outcome] : run->outcomes) {
        if (outcome.checkpoint.empty()) continue;
        auto c = volley::wire::node::DecodeNodeCheckpoint(outcome.checkpoint);
        FUZZ_CHECK(c.has_value());
        FUZZ_CHECK(c->batch.id.node_id == node && c->batch.id.run_id == run->submit.run_id);
      }
    }
    for (size_t i = 0; i + RunStateMachine::kCheckpointRuns < sm.runs().size(); ++i) {
      for (const auto& [node, outcome] : sm.runs()[i].outcomes) {
        FUZZ_CHECK(outcome.checkpoint.empty());
      }
    }
  }
  return 0;
}
