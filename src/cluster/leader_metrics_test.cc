#include "volley/cluster/leader_metrics.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "volley/metrics/names.h"

namespace volley::cluster {
namespace {

using metrics::Counter;
using metrics::Histogram;
using metrics::SeriesKey;
using metrics::Snapshot;
using std::chrono::milliseconds;
using std::chrono::seconds;
namespace names = metrics::names;
using wire::node::MetricsBatch;

std::string Batch(const std::string& node, const std::string& region, uint64_t seq,
                  uint64_t requests, uint64_t latency_us, bool final = false,
                  const std::string& run = "run-1") {
  MetricsBatch b;
  b.id = {node, region, run, seq, 0, final};
  b.snapshot.Put(SeriesKey(names::kRequests), Counter{static_cast<double>(requests)});
  Histogram h;
  for (uint64_t i = 0; i < requests; ++i) h.RecordUnits(latency_us);
  b.snapshot.Put(SeriesKey(names::kDuration), h);
  return *wire::node::EncodeMetricsBatch(b);
}

double Global(const LeaderMetrics& m, Nanos now) {
  const Snapshot s = m.Merged("run-1", now);
  const Counter* c = s.FindCounter(names::kRequests);
  return c ? c->value : -1;
}

LeaderMetricsOptions Options() {
  LeaderMetricsOptions o;
  o.aggregator.degraded_after = seconds(2);
  o.repropose_after = seconds(5);
  return o;
}

TEST(LeaderMetrics, ReplayedAndReorderedBatchesChangeNothing) {
  LeaderMetrics m(Options());
  const Nanos t{seconds(100)};
  ASSERT_TRUE(m.OnBatch("a", Batch("a", "eu", 5, 50, 100), t));
  ASSERT_TRUE(m.OnBatch("b", Batch("b", "us", 2, 7, 100), t));
  EXPECT_EQ(Global(m, t), 57);
  const Snapshot before = m.Merged("run-1", t);
  for (uint64_t seq : {1, 4, 5, 3}) {
    auto r = m.OnBatch("a", Batch("a", "eu", seq, seq * 1000, 100), t);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, Aggregator::OfferResult::kStale) << seq;
  }
  EXPECT_EQ(m.Merged("run-1", t), before);
  ASSERT_TRUE(m.OnBatch("a", Batch("a", "eu", 6, 60, 100), t));
  EXPECT_EQ(Global(m, t), 67);
  EXPECT_EQ(m.CurrentRun(), "run-1");
}

TEST(LeaderMetrics, HostileOrImpersonatingBatchesAreRefusedAndCounted) {
  LeaderMetrics m(Options());
  const Nanos t{seconds(1)};
  ASSERT_TRUE(m.OnBatch("a", Batch("a", "eu", 1, 10, 100), t));
  auto junk = m.OnBatch("a", "\x0a\xff\xff\xff\xff\x0f", t);
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().code, ErrorCode::kProtocol);
  auto other = m.OnBatch("b", Batch("a", "eu", 9, 999, 100), t);
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("in the name of node 'a'"), std::string::npos);
  EXPECT_EQ(m.refused(), 2u);
  EXPECT_EQ(Global(m, t), 10);
}

TEST(LeaderMetrics, DegradedFinalAndOwnSnapshotsAreDueOnceAndCountOnANewLeader) {
  LeaderMetrics leader(Options());
  Nanos t{seconds(10)};
  ASSERT_TRUE(leader.OnBatch("self", Batch("self", "eu", 3, 30, 100), t));
  ASSERT_TRUE(leader.OnBatch("quiet", Batch("quiet", "eu", 4, 40, 100), t));
  ASSERT_TRUE(leader.OnBatch("done", Batch("done", "us", 2, 20, 100, true), t));
  ASSERT_TRUE(leader.OnBatch("busy", Batch("busy", "us", 1, 10, 100), t));
  // At once: its own and the final one; "quiet" is not degraded yet, "busy" never due.
  auto due = leader.DueCheckpoints("self", t);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_TRUE(leader.DueCheckpoints("self", t).empty());  // proposed, not applied yet
  t += seconds(3);                                        // quiet and busy: silent 3 s
  ASSERT_TRUE(leader.OnBatch("busy", Batch("busy", "us", 2, 11, 100), t));
  auto later = leader.DueCheckpoints("self", t);
  ASSERT_EQ(later.size(), 1u);  // quiet, now degraded
  due.push_back(later[0]);
  // Every node applies them (the leader too); a follower keeps them in its Raft state.
  LeaderMetrics follower(Options());
  for (const auto& cp : due) {
    leader.ApplyCheckpoint(cp, t);
    follower.ApplyCheckpoint(cp, t);
  }
  EXPECT_TRUE(leader.DueCheckpoints("self", t).empty());
  LeaderMetrics restored(Options());
  ASSERT_TRUE(restored.Restore(follower.State(), t));
  EXPECT_EQ(restored.State(), follower.State());
  // The new leader counts self, quiet and done at once; busy's live batch arrives next and
  // a repeated checkpoint changes nothing.
  EXPECT_EQ(Global(restored, t), 90);
  ASSERT_TRUE(restored.OnBatch("busy", Batch("busy", "us", 2, 11, 100), t));
  restored.ApplyCheckpoint(due[0], t);
  EXPECT_EQ(Global(restored, t), 101);
  EXPECT_EQ(restored.CurrentRun(), "run-1");
  auto lost = restored.LastCheckpoint("run-1", "quiet", t);
  ASSERT_TRUE(lost);
  auto cp = wire::node::DecodeNodeCheckpoint(*lost);
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->batch.id.seq, 4u);
  EXPECT_FALSE(restored.LastCheckpoint("run-1", "nobody", t));
}

TEST(LeaderMetrics, OnlyTheNewestEightRunsKeepTheirCheckpoints) {
  LeaderMetrics m(Options());
  for (int run = 0; run < 10; ++run) {
    const Nanos t{seconds(run)};
    const std::string id = "run-" + std::to_string(100 + run);
    ASSERT_TRUE(m.OnBatch("a", Batch("a", "eu", 1, 10, 100, true, id), t));
    for (const auto& cp : m.DueCheckpoints("a", t)) m.ApplyCheckpoint(cp, t);
  }
  EXPECT_EQ(m.CurrentRun(), "run-109");
  LeaderMetrics restored(Options());
  ASSERT_TRUE(restored.Restore(m.State(), Nanos(0)));
  EXPECT_FALSE(restored.LastCheckpoint("run-101", "a", Nanos(0)));
  EXPECT_TRUE(restored.LastCheckpoint("run-102", "a", Nanos(0)));
  EXPECT_TRUE(restored.LastCheckpoint("run-109", "a", Nanos(0)));
}

TEST(LeaderMetrics, ATruncatedStateIsRefusedWithAReason) {
  LeaderMetrics m(Options());
  ASSERT_TRUE(m.OnBatch("a", Batch("a", "eu", 1, 10, 100), Nanos(0)));
  auto cp = m.DueCheckpoints("a", Nanos(0));
  ASSERT_EQ(cp.size(), 1u);
  m.ApplyCheckpoint(cp[0], Nanos(0));
  const std::string state = m.State();
  LeaderMetrics other(Options());
  auto r = other.Restore(state.substr(0, state.size() - 1), Nanos(0));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("truncated checkpoint 0"), std::string::npos);
  EXPECT_FALSE(other.Restore("", Nanos(0)));
}

TEST(LeaderMetrics, LiveJsonIsTheMergedGlobalView) {
  LeaderMetrics m(Options());
  EXPECT_EQ(m.LiveJson("L", Nanos(0)).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(m.OnBatch("a", Batch("a", "eu", 1, 90, 1000), Nanos(seconds(1))));
  ASSERT_TRUE(m.OnBatch("b", Batch("b", "us", 1, 10, 50'000), Nanos(seconds(2))));
  auto j = nlohmann::json::parse(*m.LiveJson("L", Nanos(milliseconds(3500))));
  EXPECT_EQ(j["run_id"], "run-1");
  EXPECT_EQ(j["leader_id"], "L");
  EXPECT_EQ(j["requests"], 100);
  EXPECT_DOUBLE_EQ(j["rps"].get<double>(), 40.0);  // 100 requests in 2.5 s
  EXPECT_NEAR(j["p50_ms"].get<double>(), 1.0, 0.01);
  EXPECT_NEAR(j["p95_ms"].get<double>(), 50.0, 0.5);  // the union's, not an average
  EXPECT_EQ(j["reporting_nodes"], 1);
  EXPECT_EQ(j["degraded"], nlohmann::json::array({"a"}));  // silent for 2.5 s
}

}  // namespace
}  // namespace volley::cluster
