#include "volley/cluster/run_state.h"

#include <gtest/gtest.h>

#include "volley/metrics/names.h"
#include "volley/v1/run.pb.h"
#include "volley/wire/volley_metrics.h"

namespace volley::cluster {
namespace {

using std::chrono::seconds;

SubmitRun Submit(const std::string& id, std::vector<std::string> nodes = {"a", "b", "c"}) {
  SubmitRun s;
  s.run_id = id;
  s.plan_yaml = "version: \"1.0\"\n";
  s.plan_name = "plan.yaml";
  s.participants = std::move(nodes);
  return s;
}

// Applies every command through the wire encoding, as a node applying the log does.
Result<void> ApplyEncoded(RunStateMachine& sm, const RunCommand& c) {
  auto decoded = DecodeRunCommand(EncodeRunCommand(c));
  if (!decoded) return tl::unexpected(decoded.error());
  return sm.Apply(*decoded);
}

// The checkpoint bytes of `node`'s final snapshot in `run`: `requests` and a latency trend.
std::string Checkpoint(const std::string& run, const std::string& node, double requests) {
  wire::node::NodeCheckpoint c;
  c.batch.id = wire::node::BatchIdentity{node, "eu", run, 7, 1'700'000'000'000'000'000, true};
  c.batch.snapshot.Put(metrics::SeriesKey(metrics::names::kRequests), metrics::Counter{requests});
  metrics::Histogram h(1e-6);
  for (int i = 0; i < 100; ++i) h.RecordUnits(1000 + i);
  c.batch.snapshot.Put(metrics::SeriesKey(metrics::names::kDuration), h);
  c.degraded_nanos = 3'000'000'000;
  auto bytes = wire::node::EncodeNodeCheckpoint(c);
  EXPECT_TRUE(bytes.has_value());
  return bytes.value_or("");
}

TEST(RunState, ARunGoesFromPlannedToEndedWhenEveryParticipantIsDoneOrLost) {
  RunStateMachine sm;
  ASSERT_TRUE(ApplyEncoded(sm, Submit("r1")).has_value());
  ASSERT_NE(sm.current(), nullptr);
  EXPECT_EQ(sm.current()->phase, RunPhase::kPlanned);
  EXPECT_EQ(sm.current()->ShareOf("b"), 1u);
  EXPECT_FALSE(sm.current()->ShareOf("z").has_value());
  ASSERT_TRUE(ApplyEncoded(sm, StartRun{"r1", seconds(1'700'000'010)}).has_value());
  EXPECT_EQ(sm.current()->phase, RunPhase::kStarted);
  EXPECT_EQ(*sm.current()->start_unix, seconds(1'700'000'010));
  ASSERT_TRUE(ApplyEncoded(sm, NodeDone{"r1", "a", false, "{\"requests_total\":1000}"}));
  ASSERT_TRUE(ApplyEncoded(sm, NodeDone{"r1", "c", true, ""}));
  EXPECT_EQ(sm.current()->phase, RunPhase::kStarted);
  ASSERT_TRUE(ApplyEncoded(sm, NodeDone{"r1", "b", false, "{}"}));
  EXPECT_EQ(sm.current()->phase, RunPhase::kEnded);
  EXPECT_TRUE(sm.current()->outcomes.at("c").lost);
  EXPECT_EQ(sm.current()->outcomes.at("a").summary_json, "{\"requests_total\":1000}");
}

TEST(RunState, TheFirstCommittedStartStandsAndConflictingCommandsChangeNothing) {
  RunStateMachine sm;
  ASSERT_TRUE(sm.Apply(Submit("r1")));
  ASSERT_TRUE(sm.Apply(StartRun{"r1", seconds(100)}));
  const std::string before = sm.Serialize();
  // Two leaders each proposed a start; the later one is refused on every node alike.
  auto second = sm.Apply(StartRun{"r1", seconds(200)});
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message.find("has a start instant already"), std::string::npos);
  EXPECT_FALSE(sm.Apply(Submit("r2")).has_value()) << "a second plan while r1 runs";
  EXPECT_FALSE(sm.Apply(StartRun{"r0", seconds(1)}).has_value());
  EXPECT_FALSE(sm.Apply(NodeDone{"r1", "stranger", false, ""}).has_value());
  ASSERT_TRUE(sm.Apply(NodeDone{"r1", "a", false, ""}));
  EXPECT_FALSE(sm.Apply(NodeDone{"r1", "a", true, ""}).has_value()) << "one outcome per node";
  EXPECT_EQ(*sm.current()->start_unix, seconds(100));
  EXPECT_NE(sm.Serialize(), before);  // only the valid done changed it
}

TEST(RunState, StopBeforeTheStartEndsTheRunAndAStartAfterItIsRefused) {
  RunStateMachine sm;
  ASSERT_TRUE(sm.Apply(Submit("r1")));
  ASSERT_TRUE(sm.Apply(StopRun{"r1", "Ctrl-C on volley run --cluster"}));
  EXPECT_EQ(sm.current()->phase, RunPhase::kEnded);
  EXPECT_EQ(sm.current()->stop_reason, "Ctrl-C on volley run --cluster");
  EXPECT_FALSE(sm.Apply(StartRun{"r1", seconds(5)}).has_value());
  // A new run may follow an ended one, but not under an old id.
  EXPECT_FALSE(sm.Apply(Submit("r1")).has_value());
  EXPECT_TRUE(sm.Apply(Submit("r2")).has_value());
}

TEST(RunState, StopDuringTheRunWaitsForEveryOutcome) {
  RunStateMachine sm;
  ASSERT_TRUE(sm.Apply(Submit("r1", {"a", "b"})));
  ASSERT_TRUE(sm.Apply(StartRun{"r1", seconds(5)}));
  ASSERT_TRUE(sm.Apply(StopRun{"r1", "user"}));
  EXPECT_EQ(sm.current()->phase, RunPhase::kStopping);
  EXPECT_FALSE(sm.Apply(StopRun{"r1", "again"}).has_value());
  ASSERT_TRUE(sm.Apply(NodeDone{"r1", "a", false, ""}));
  ASSERT_TRUE(sm.Apply(NodeDone{"r1", "b", false, ""}));
  EXPECT_EQ(sm.current()->phase, RunPhase::kEnded);
  EXPECT_EQ(sm.current()->stop_reason, "user");
}

TEST(RunState, SnapshotsRestoreTheSameStateAndKeepABoundedHistory) {
  RunStateMachine sm;
  for (int i = 0; i < 20; ++i) {
    const std::string id = "r" + std::to_string(i);
    ASSERT_TRUE(sm.Apply(Submit(id, {"a"})));
    ASSERT_TRUE(sm.Apply(StartRun{id, seconds(i)}));
    ASSERT_TRUE(sm.Apply(NodeDone{id, "a", false, "{\"i\":" + std::to_string(i) + "}"}));
  }
  ASSERT_TRUE(sm.Apply(Submit("now", {"a", "b"})));
  EXPECT_EQ(sm.runs().size(), RunStateMachine::kHistory);
  EXPECT_EQ(sm.runs().front().submit.run_id, "r5");
  RunStateMachine copy;
  ASSERT_TRUE(copy.Restore(sm.Serialize()));
  EXPECT_EQ(copy.Serialize(), sm.Serialize());
  EXPECT_EQ(copy.current()->submit.run_id, "now");
  EXPECT_EQ(copy.runs()[3].outcomes.at("a").summary_json, "{\"i\":8}");
  // The restored machine decides the same way.
  EXPECT_FALSE(copy.Apply(Submit("r19", {"a"})).has_value());
}

TEST(RunState, MalformedCommandsAndSnapshotsAreRefusedWithTheirReason) {
  EXPECT_FALSE(DecodeRunCommand("\xff\xff\xff").has_value());
  EXPECT_FALSE(DecodeRunCommand("").has_value()) << "no command set";
  auto no_nodes = DecodeRunCommand(EncodeRunCommand(Submit("r", {})));
  ASSERT_FALSE(no_nodes.has_value());
  EXPECT_NE(no_nodes.error().message.find("without participants"), std::string::npos);
  auto twice = DecodeRunCommand(EncodeRunCommand(Submit("r", {"a", "a"})));
  ASSERT_FALSE(twice.has_value());
  EXPECT_NE(twice.error().message.find("repeated participant 'a'"), std::string::npos);
  EXPECT_FALSE(DecodeRunCommand(EncodeRunCommand(StartRun{"", seconds(1)})).has_value());
  RunStateMachine sm;
  ASSERT_TRUE(sm.Apply(Submit("r1")));
  const std::string good = sm.Serialize();
  EXPECT_FALSE(sm.Restore("\x0a\x05garbage").has_value());
  EXPECT_EQ(sm.Serialize(), good) << "a failed restore changes nothing";
}

TEST(RunState, NodeDoneCarriesItsCheckpointThroughTheLogAndTheSnapshot) {
  const std::string a = Checkpoint("r1", "a", 1000);
  auto decoded = DecodeRunCommand(EncodeRunCommand(NodeDone{"r1", "a", false, "{}", a}));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().message;
  EXPECT_EQ(std::get<NodeDone>(*decoded).checkpoint, a);
  RunStateMachine sm;
  ASSERT_TRUE(ApplyEncoded(sm, Submit("r1", {"a", "b"})));
  ASSERT_TRUE(ApplyEncoded(sm, StartRun{"r1", seconds(5)}));
  ASSERT_TRUE(ApplyEncoded(sm, NodeDone{"r1", "a", false, "{}", a}));
  ASSERT_TRUE(ApplyEncoded(sm, NodeDone{"r1", "b", true, "", Checkpoint("r1", "b", 12)}));
  RunStateMachine copy;
  ASSERT_TRUE(copy.Restore(sm.Serialize()));
  EXPECT_EQ(copy.current()->outcomes.at("a").checkpoint, a);
  auto b = wire::node::DecodeNodeCheckpoint(copy.current()->outcomes.at("b").checkpoint);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->batch.snapshot.SumCounter(metrics::names::kRequests), 12.0);
  EXPECT_EQ(b->degraded_nanos, 3'000'000'000);
}

TEST(RunState, CheckpointsThatDoNotDecodeOrNameAnotherNodeOrRunAreRefused) {
  auto garbage = DecodeRunCommand(EncodeRunCommand(NodeDone{"r1", "a", false, "{}", "\x0a\xff"}));
  ASSERT_FALSE(garbage.has_value());
  EXPECT_NE(garbage.error().message.find("done of 'a' in 'r1': checkpoint:"), std::string::npos)
      << garbage.error().message;
  auto other_node =
      DecodeRunCommand(EncodeRunCommand(NodeDone{"r1", "a", false, "", Checkpoint("r1", "b", 1)}));
  ASSERT_FALSE(other_node.has_value());
  EXPECT_NE(other_node.error().message.find("it is node 'b' of run 'r1'"), std::string::npos)
      << other_node.error().message;
  EXPECT_FALSE(
      DecodeRunCommand(EncodeRunCommand(NodeDone{"r1", "a", true, "", Checkpoint("r0", "a", 1)}))
          .has_value());
  // A snapshot with a bad checkpoint is refused whole and changes nothing.
  RunStateMachine sm;
  ASSERT_TRUE(sm.Apply(Submit("r1", {"a"})));
  ASSERT_TRUE(sm.Apply(StartRun{"r1", seconds(1)}));
  ASSERT_TRUE(sm.Apply(NodeDone{"r1", "a", false, "", Checkpoint("r1", "a", 5)}));
  const std::string good = sm.Serialize();
  v1::RunStateSnapshot snap;
  ASSERT_TRUE(snap.ParseFromString(good));
  snap.mutable_runs(0)->mutable_outcomes(0)->set_checkpoint(std::string("\x0a\x03", 2) + "abc");
  RunStateMachine other;
  ASSERT_TRUE(other.Restore(good));
  auto refused = other.Restore(snap.SerializeAsString());
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("checkpoint"), std::string::npos);
  EXPECT_EQ(other.Serialize(), good);
  // An outcome filed under another run (found by run_command_fuzz: it re-serialized under
  // the record's id, and its checkpoint no longer matched).
  ASSERT_TRUE(snap.ParseFromString(good));
  snap.mutable_runs(0)->mutable_outcomes(0)->set_run_id("r0");
  snap.mutable_runs(0)->mutable_outcomes(0)->clear_checkpoint();
  refused = other.Restore(snap.SerializeAsString());
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("run 'r1' holds an outcome of 'r0'"), std::string::npos)
      << refused.error().message;
}

TEST(RunState, OnlyTheNewestRunsKeepTheirCheckpoints) {
  RunStateMachine sm;
  for (int i = 0; i < 5; ++i) {
    const std::string id = "r" + std::to_string(i);
    ASSERT_TRUE(sm.Apply(Submit(id, {"a"})));
    ASSERT_TRUE(sm.Apply(StartRun{id, seconds(i)}));
    ASSERT_TRUE(sm.Apply(NodeDone{id, "a", false, "{}", Checkpoint(id, "a", i)}));
  }
  ASSERT_EQ(sm.runs().size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(sm.runs()[i].outcomes.at("a").checkpoint.empty(),
              i + RunStateMachine::kCheckpointRuns < 5)
        << i;
    EXPECT_EQ(sm.runs()[i].outcomes.at("a").summary_json, "{}");  // summaries stay
  }
  // The Raft snapshot holds two checkpoints, whatever the history.
  const size_t one = Checkpoint("r4", "a", 4).size();
  EXPECT_LT(sm.Serialize().size(), 2 * one + 2000);
}

}  // namespace
}  // namespace volley::cluster

namespace volley::cluster {
namespace {

TEST(RunState, AStartChoosesWhoTakesPart) {
  RunStateMachine sm;
  SubmitRun s = Submit("r1");
  s.submit_unix = std::chrono::seconds(1'700'000'000);
  ASSERT_TRUE(ApplyEncoded(sm, s));
  EXPECT_EQ(sm.current()->submit.submit_unix, std::chrono::seconds(1'700'000'000));
  EXPECT_FALSE(
      DecodeRunCommand(EncodeRunCommand(StartRun{"r1", std::chrono::seconds(5), {"a", "a"}})))
      << "a repeated participant";
  ASSERT_TRUE(ApplyEncoded(sm, StartRun{"r1", std::chrono::seconds(5), {"c", "a", "d"}}));
  EXPECT_EQ(sm.current()->submit.participants, (std::vector<std::string>{"c", "a", "d"}))
      << "d joined after the submit";
  EXPECT_EQ(sm.current()->ShareOf("c"), 0u);
  EXPECT_FALSE(sm.current()->ShareOf("b"));
  ASSERT_TRUE(ApplyEncoded(sm, NodeDone{"r1", "a", false, "{}"}));
  ASSERT_TRUE(ApplyEncoded(sm, NodeDone{"r1", "c", false, "{}"}));
  ASSERT_TRUE(ApplyEncoded(sm, NodeDone{"r1", "d", false, "{}"}));
  EXPECT_EQ(sm.current()->phase, RunPhase::kEnded) << "b does not take part: nothing to wait for";
  // The choice survives a snapshot.
  RunStateMachine restored;
  ASSERT_TRUE(restored.Restore(sm.Serialize()));
  EXPECT_EQ(restored.current()->submit.participants, (std::vector<std::string>{"c", "a", "d"}));
}

}  // namespace
}  // namespace volley::cluster
