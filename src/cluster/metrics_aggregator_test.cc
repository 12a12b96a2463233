#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "volley/cluster/aggregator.h"
#include "volley/metrics/names.h"
#include "volley/output/prometheus.h"

namespace volley::cluster {
namespace {

using metrics::Counter;
using metrics::Gauge;
using metrics::Histogram;
using metrics::Labels;
using metrics::Rate;
using metrics::SeriesKey;
using metrics::Snapshot;
using std::chrono::seconds;
namespace names = metrics::names;
using wire::node::MetricsBatch;

// A node's cumulative snapshot: `requests` requests, all 200 but `errors` 500s, each
// taking `latency_us` (µs), and `vus` virtual users.
Snapshot NodeSnapshot(uint64_t requests, uint64_t errors, uint64_t latency_us, double vus = 1) {
  Snapshot s;
  s.Put(SeriesKey(names::kRequests), Counter{static_cast<double>(requests)});
  s.Put(SeriesKey(names::kStatusCodes, {{"status_code", "200"}}),
        Counter{static_cast<double>(requests - errors)});
  if (errors > 0) {
    s.Put(SeriesKey(names::kStatusCodes, {{"status_code", "500"}}),
          Counter{static_cast<double>(errors)});
  }
  Histogram h;
  for (uint64_t i = 0; i < requests; ++i) h.RecordUnits(latency_us + i % 7);
  s.Put(SeriesKey(names::kDuration), h);
  s.Put(SeriesKey("checks"), Rate{requests - errors, requests});
  Gauge g;
  g.Set(vus);
  s.Put(SeriesKey("vus"), g);
  return s;
}

MetricsBatch Batch(const std::string& node, const std::string& region, uint64_t seq, Snapshot s,
                   const std::string& run = "run1") {
  return MetricsBatch{{.node_id = node, .region = region, .run_id = run, .seq = seq}, std::move(s)};
}

Nanos T(int64_t s) { return seconds(s); }

double CounterOf(const Snapshot& s, const char* name, const Labels& labels = {}) {
  const Counter* c = s.FindCounter(name, labels);
  return c == nullptr ? -1 : c->value;
}

TEST(Aggregator, LostRepeatedAndReorderedBatchesChangeNothing) {
  Aggregator in_order, shuffled;
  in_order.Offer(Batch("a", "eu", 3, NodeSnapshot(300, 3, 1000)), T(3));
  in_order.Offer(Batch("b", "us", 2, NodeSnapshot(200, 0, 2000)), T(3));

  // b's seq 1 lost; a's batches out of order and repeated.
  EXPECT_EQ(shuffled.Offer(Batch("a", "eu", 2, NodeSnapshot(200, 2, 1000)), T(1)),
            Aggregator::OfferResult::kAccepted);
  EXPECT_EQ(shuffled.Offer(Batch("a", "eu", 3, NodeSnapshot(300, 3, 1000)), T(2)),
            Aggregator::OfferResult::kAccepted);
  EXPECT_EQ(shuffled.Offer(Batch("a", "eu", 1, NodeSnapshot(100, 1, 1000)), T(3)),
            Aggregator::OfferResult::kStale);
  EXPECT_EQ(shuffled.Offer(Batch("a", "eu", 3, NodeSnapshot(999, 9, 1000)), T(3)),
            Aggregator::OfferResult::kStale);
  EXPECT_EQ(shuffled.Offer(Batch("b", "us", 2, NodeSnapshot(200, 0, 2000)), T(3)),
            Aggregator::OfferResult::kAccepted);

  const Snapshot merged = shuffled.Merged("run1", T(3));
  EXPECT_EQ(merged, in_order.Merged("run1", T(3)));
  EXPECT_EQ(CounterOf(merged, names::kRequests), 500);
  EXPECT_EQ(CounterOf(merged, names::kStatusCodes, {{"status_code", "500"}}), 3);
  ASSERT_EQ(shuffled.Nodes("run1", T(3)).size(), 2u);
  EXPECT_EQ(shuffled.Nodes("run1", T(3))[0].seq, 3u);
}

TEST(Aggregator, GlobalHistogramIsTheUnionOfTheNodesNotAnAverageOfPercentiles) {
  Aggregator agg;
  // eu: two nodes, 1 ms and 3 ms; us: one node at 50 ms with fewer requests.
  const Snapshot a = NodeSnapshot(900, 0, 1000), b = NodeSnapshot(600, 6, 3000),
                 c = NodeSnapshot(100, 10, 50'000);
  agg.Offer(Batch("a", "eu", 1, a), T(1));
  agg.Offer(Batch("b", "eu", 1, b), T(1));
  agg.Offer(Batch("c", "us", 1, c), T(1));
  const Snapshot merged = agg.Merged("run1", T(1));

  Histogram all = *a.FindTrend(names::kDuration);
  ASSERT_TRUE(all.Merge(*b.FindTrend(names::kDuration)));
  ASSERT_TRUE(all.Merge(*c.FindTrend(names::kDuration)));
  const Histogram* global = merged.FindTrend(names::kDuration);
  ASSERT_NE(global, nullptr);
  EXPECT_EQ(*global, all);
  EXPECT_EQ(global->count(), 1600u);
  for (double q : {50.0, 95.0, 99.0}) EXPECT_EQ(global->Percentile(q), all.Percentile(q));

  // Sorted, the union is a's 900 at ~1 ms, b's 600 at ~3 ms, c's 100 at ~50 ms: its p50
  // (rank 800) is a's ~1 ms and its p95 (rank 1520) c's ~50 ms, while the averages of the
  // nodes' percentiles are ~18 ms for both.
  auto average = [&](double q) {
    return (a.FindTrend(names::kDuration)->Percentile(q) +
            b.FindTrend(names::kDuration)->Percentile(q) +
            c.FindTrend(names::kDuration)->Percentile(q)) /
           3;
  };
  EXPECT_NEAR(global->Percentile(50), 0.001003, 0.000004);
  EXPECT_NEAR(global->Percentile(95), 0.050003, 0.050003 / 128);
  EXPECT_NEAR(average(50), 0.018, 0.0002);
  EXPECT_NEAR(average(95), 0.018, 0.0002);
  EXPECT_NE(global->Percentile(50), average(50));
  EXPECT_NE(global->Percentile(95), average(95));

  Histogram eu = *a.FindTrend(names::kDuration);
  ASSERT_TRUE(eu.Merge(*b.FindTrend(names::kDuration)));
  const Histogram* eu_merged = merged.FindTrend(names::kDuration, {{"region", "eu"}});
  ASSERT_NE(eu_merged, nullptr);
  EXPECT_EQ(*eu_merged, eu);
  EXPECT_EQ(*merged.FindTrend(names::kDuration, {{"region", "us"}}),
            *c.FindTrend(names::kDuration));
}

TEST(Aggregator, PerRegionSeriesAreTheSumsOfTheirNodes) {
  Aggregator agg;
  agg.Offer(Batch("a", "eu", 1, NodeSnapshot(900, 9, 1000, 10)), T(1));
  agg.Offer(Batch("b", "eu", 4, NodeSnapshot(600, 6, 3000, 5)), T(1));
  agg.Offer(Batch("c", "us", 2, NodeSnapshot(100, 10, 50'000, 2)), T(1));
  const Snapshot m = agg.Merged("run1", T(1));
  EXPECT_EQ(CounterOf(m, names::kRequests), 1600);
  EXPECT_EQ(CounterOf(m, names::kRequests, {{"region", "eu"}}), 1500);
  EXPECT_EQ(CounterOf(m, names::kRequests, {{"region", "us"}}), 100);
  EXPECT_EQ(CounterOf(m, names::kStatusCodes, {{"region", "eu"}, {"status_code", "500"}}), 15);
  EXPECT_EQ(CounterOf(m, names::kStatusCodes, {{"status_code", "500"}}), 25);
  EXPECT_EQ(CounterOf(m, names::kStatusCodes, {{"status_code", "200"}}), 1575);
  ASSERT_NE(m.FindRate("checks"), nullptr);
  EXPECT_EQ(*m.FindRate("checks"), (Rate{1575, 1600}));
  EXPECT_EQ(*m.FindRate("checks", {{"region", "us"}}), (Rate{90, 100}));
  // Gauges of the cluster are the sum of the nodes' current values.
  EXPECT_EQ(m.FindGauge("vus")->last, 17);
  EXPECT_EQ(m.FindGauge("vus", {{"region", "eu"}})->last, 15);
  EXPECT_EQ(m.FindGauge("vus")->count, 3u);
  EXPECT_EQ(m.FindGauge("vus")->min, 2);
  EXPECT_EQ(m.FindGauge("vus")->max, 10);
  EXPECT_EQ(m.FindGauge("cluster_nodes_reporting")->last, 3);
  EXPECT_EQ(CounterOf(m, "cluster_merge_conflicts_total"), 0);
}

TEST(Aggregator, ASeriesWithItsOwnRegionLabelIsNotLabelledTwice) {
  Aggregator agg;
  Snapshot s;
  s.Put(SeriesKey("x_total", {{"region", "ap"}, {"url", "/"}}), Counter{4});
  s.Put(SeriesKey("x_total", {{"url", "/"}}), Counter{1});
  agg.Offer(Batch("a", "eu", 1, s), T(1));
  const Snapshot m = agg.Merged("run1", T(1));
  EXPECT_EQ(CounterOf(m, "x_total", {{"region", "ap"}, {"url", "/"}}), 4);
  EXPECT_EQ(CounterOf(m, "x_total", {{"region", "eu"}, {"url", "/"}}), 1);
  EXPECT_EQ(CounterOf(m, "x_total", {{"url", "/"}}), 5);
  for (const auto& [key, value] : m) {
    int regions = 0;
    for (const auto& kv : key.labels) regions += kv.first == "region" ? 1 : 0;
    EXPECT_LE(regions, 1) << key.ToString();
  }
}

TEST(Aggregator, RunsAreKeptApart) {
  Aggregator agg;
  agg.Offer(Batch("a", "eu", 5, NodeSnapshot(50, 0, 1000), "r1"), T(1));
  EXPECT_EQ(agg.Offer(Batch("a", "eu", 1, NodeSnapshot(7, 0, 1000), "r2"), T(1)),
            Aggregator::OfferResult::kAccepted);
  EXPECT_EQ(CounterOf(agg.Merged("r1", T(1)), names::kRequests), 50);
  EXPECT_EQ(CounterOf(agg.Merged("r2", T(1)), names::kRequests), 7);
  EXPECT_EQ(agg.Runs(), (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(CounterOf(agg.Merged("r3", T(1)), names::kRequests), -1);
}

TEST(Aggregator, TypeClashesKeepTheFirstNodeAndAreCounted) {
  Aggregator agg;
  Snapshot a, b;
  a.Put(SeriesKey("m"), Counter{2});
  b.Put(SeriesKey("m"), Rate{1, 2});
  agg.Offer(Batch("a", "eu", 1, a), T(1));
  agg.Offer(Batch("b", "eu", 1, b), T(1));
  const Snapshot m = agg.Merged("run1", T(1));
  EXPECT_EQ(CounterOf(m, "m"), 2);
  EXPECT_EQ(CounterOf(m, "m", {{"region", "eu"}}), 2);
  EXPECT_EQ(CounterOf(m, "cluster_merge_conflicts_total"), 1);
}

TEST(Aggregator, SilentNodesAreDegradedStillCountAndRecoverWithExactDegradedTime) {
  Aggregator agg(AggregatorOptions{.degraded_after = seconds(15)});
  agg.Offer(Batch("a", "eu", 1, NodeSnapshot(10, 0, 1000)), T(100));
  agg.Offer(Batch("b", "us", 1, NodeSnapshot(20, 0, 1000)), T(100));
  // At exactly the timeout it is not yet degraded; one nanosecond later it is.
  EXPECT_FALSE(agg.Nodes("run1", T(115))[0].degraded);
  EXPECT_TRUE(agg.Nodes("run1", T(115) + Nanos(1))[0].degraded);
  agg.Offer(Batch("b", "us", 2, NodeSnapshot(30, 0, 1000)), T(110));
  agg.Offer(Batch("b", "us", 3, NodeSnapshot(40, 0, 1000)), T(120));

  Snapshot m = agg.Merged("run1", T(125));
  EXPECT_EQ(m.FindGauge("cluster_node_degraded", {{"node_id", "a"}})->last, 1);
  EXPECT_EQ(m.FindGauge("cluster_node_degraded", {{"node_id", "b"}})->last, 0);
  EXPECT_EQ(m.FindGauge("cluster_nodes_reporting")->last, 1);
  EXPECT_EQ(CounterOf(m, "cluster_node_degraded_seconds_total", {{"node_id", "a"}}), 10);
  EXPECT_EQ(CounterOf(m, names::kRequests), 50);  // a's last snapshot still counts

  // a comes back at 140: 25 s degraded (115..140); later silences add up.
  EXPECT_EQ(agg.Offer(Batch("a", "eu", 2, NodeSnapshot(15, 0, 1000)), T(140)),
            Aggregator::OfferResult::kAccepted);
  auto nodes = agg.Nodes("run1", T(150));
  EXPECT_FALSE(nodes[0].degraded);
  EXPECT_EQ(nodes[0].degraded_total, T(25));
  EXPECT_EQ(nodes[0].last_seen, T(140));
  nodes = agg.Nodes("run1", T(160));
  EXPECT_TRUE(nodes[0].degraded);
  EXPECT_EQ(nodes[0].degraded_total, T(30));
  // A stale batch is no sign of life.
  agg.Offer(Batch("a", "eu", 1, NodeSnapshot(1, 0, 1000)), T(160));
  EXPECT_EQ(agg.Nodes("run1", T(161))[0].degraded_total, T(31));
  agg.Offer(Batch("a", "eu", 3, NodeSnapshot(16, 0, 1000)), T(170));
  EXPECT_EQ(agg.Nodes("run1", T(500))[1].degraded_total, T(500 - 135));  // b silent since 120
  m = agg.Merged("run1", T(170));
  EXPECT_EQ(CounterOf(m, "cluster_node_degraded_seconds_total", {{"node_id", "a"}}), 40);
  EXPECT_EQ(CounterOf(m, "cluster_node_degraded_seconds_total", {{"node_id", "b"}}), 35);
}

TEST(Aggregator, ANodeThatSentItsFinalBatchIsNeverDegraded) {
  Aggregator agg;
  auto last = Batch("a", "eu", 9, NodeSnapshot(10, 0, 1000));
  last.id.final = true;
  agg.Offer(std::move(last), T(10));
  const auto nodes = agg.Nodes("run1", T(1000));
  EXPECT_TRUE(nodes[0].final);
  EXPECT_FALSE(nodes[0].degraded);
  EXPECT_EQ(nodes[0].degraded_total, T(0));
}

TEST(Aggregator, CheckpointsGiveANewLeaderTheSameTotalsAndNothingTwice) {
  Aggregator old_leader;
  old_leader.Offer(Batch("a", "eu", 4, NodeSnapshot(400, 4, 1000)), T(10));
  old_leader.Offer(Batch("b", "eu", 2, NodeSnapshot(200, 0, 2000)), T(10));
  old_leader.Offer(Batch("c", "us", 7, NodeSnapshot(70, 7, 9000)), T(10));
  std::vector<std::string> log;
  for (const char* node : {"a", "b", "c"}) {
    auto cp = old_leader.Checkpoint("run1", node, T(30));  // a, b, c degraded 5 s by then
    ASSERT_TRUE(cp) << cp.error().message;
    log.push_back(*cp);
  }
  EXPECT_EQ(old_leader.Checkpoint("run1", "zz", T(30)).error().code, ErrorCode::kNotFound);

  // The new leader got b's live batch seq 2 (same) and a's seq 5 (newer) before it read
  // the log: nothing is counted twice, newest seq wins.
  Aggregator new_leader;
  new_leader.Offer(Batch("b", "eu", 2, NodeSnapshot(200, 0, 2000)), T(500));
  new_leader.Offer(Batch("a", "eu", 5, NodeSnapshot(500, 5, 1000)), T(500));
  std::vector<Aggregator::OfferResult> results;
  for (const auto& bytes : log) {
    auto r = new_leader.RestoreCheckpoint(bytes, T(500));
    ASSERT_TRUE(r) << r.error().message;
    results.push_back(*r);
  }
  EXPECT_EQ(results, (std::vector<Aggregator::OfferResult>{Aggregator::OfferResult::kStale,
                                                           Aggregator::OfferResult::kStale,
                                                           Aggregator::OfferResult::kAccepted}));
  const Snapshot m = new_leader.Merged("run1", T(500));
  EXPECT_EQ(CounterOf(m, names::kRequests), 770);
  EXPECT_EQ(CounterOf(m, names::kRequests, {{"region", "us"}}), 70);
  EXPECT_EQ(*m.FindTrend(names::kDuration, {{"region", "us"}}),
            *NodeSnapshot(70, 7, 9000).FindTrend(names::kDuration));
  // c's degraded time carries over (5 s) and grows on the new leader from there.
  EXPECT_EQ(new_leader.Nodes("run1", T(500))[2].degraded_total, T(5));
  EXPECT_EQ(new_leader.Nodes("run1", T(520))[2].degraded_total, T(10));

  // A restore of the same checkpoint again changes nothing.
  EXPECT_EQ(*new_leader.RestoreCheckpoint(log[2], T(520)), Aggregator::OfferResult::kStale);
  EXPECT_EQ(new_leader.Merged("run1", T(500)), m);
  auto bad = new_leader.RestoreCheckpoint("\x0a\x03xyz", T(520));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kProtocol);
}

TEST(Aggregator, PrometheusExpositionKeepsGlobalSeriesWithoutRegionAndIsPromtoolClean) {
  Aggregator agg;
  agg.Offer(Batch("a", "eu", 1, NodeSnapshot(900, 9, 1000)), T(1));
  agg.Offer(Batch("c", "us", 1, NodeSnapshot(100, 10, 50'000)), T(1));
  output::ExpositionOptions options;  // no const labels: the leader's merged view
  const std::string text = output::RenderPrometheus(agg.Merged("run1", T(1)), options);
  EXPECT_NE(text.find("\nvolley_requests_total 1000\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nvolley_requests_total{region=\"eu\"} 900\n"), std::string::npos);
  EXPECT_NE(text.find("\nvolley_requests_total{region=\"us\"} 100\n"), std::string::npos);
  EXPECT_NE(text.find("\nvolley_request_duration_seconds_count 1000\n"), std::string::npos);
  EXPECT_NE(text.find("\nvolley_request_duration_seconds_count{region=\"us\"} 100\n"),
            std::string::npos);
  EXPECT_NE(text.find("\nvolley_request_duration_seconds_quantile{quantile=\"0.99\"} "),
            std::string::npos);
  EXPECT_NE(text.find("\nvolley_cluster_node_degraded{node_id=\"a\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("\nvolley_cluster_nodes_reporting 2\n"), std::string::npos);

  if (access("/usr/bin/promtool", X_OK) != 0) {
    GTEST_SKIP() << "promtool not installed (Debian package `prometheus`): exposition not linted";
  }
  char path[] = "/tmp/volley_aggregator_promXXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  const std::string command = "/usr/bin/promtool check metrics < " + std::string(path) + " 2>&1";
  FILE* p = popen(command.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  unlink(path);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(out, "");
}

TEST(Aggregator, BatchesThroughTheWireMergeToTheNodesExactTotals) {
  Aggregator agg;
  uint64_t requests = 0;
  for (int n = 0; n < 5; ++n) {
    const uint64_t count = 100 + 37 * n;
    requests += count;
    auto bytes =
        wire::node::EncodeMetricsBatch(Batch("node-" + std::to_string(n), n % 2 == 0 ? "eu" : "us",
                                             1, NodeSnapshot(count, n, 1000 * (n + 1))));
    ASSERT_TRUE(bytes) << bytes.error().message;
    auto decoded = wire::node::DecodeMetricsBatch(*bytes);
    ASSERT_TRUE(decoded) << decoded.error().message;
    agg.Offer(std::move(*decoded), T(1));
  }
  const Snapshot m = agg.Merged("run1", T(1));
  EXPECT_EQ(CounterOf(m, names::kRequests), static_cast<double>(requests));
  EXPECT_EQ(CounterOf(m, names::kRequests, {{"region", "eu"}}), 100 + 174 + 248);
  EXPECT_EQ(m.FindTrend(names::kDuration)->count(), requests);
  EXPECT_EQ(CounterOf(m, names::kStatusCodes, {{"status_code", "500"}}), 1 + 2 + 3 + 4);
}

// Offers from several threads while another merges: the end state is exact whatever the
// interleaving (and gives ThreadSanitizer something to check).
TEST(Aggregator, ConcurrentOffersAndMergesEndExact) {
  Aggregator agg;
  std::vector<std::thread> senders;
  for (int n = 0; n < 4; ++n) {
    senders.emplace_back([&agg, n] {
      for (uint64_t seq = 1; seq <= 50; ++seq) {
        agg.Offer(Batch("node-" + std::to_string(n), n < 2 ? "eu" : "us", seq,
                        NodeSnapshot(seq * 10, 0, 1000)),
                  T(static_cast<int64_t>(seq)));
      }
    });
  }
  std::thread reader([&agg] {
    for (int i = 0; i < 50; ++i) {
      const Snapshot m = agg.Merged("run1", T(60));
      const double total = CounterOf(m, names::kRequests);
      EXPECT_TRUE(total == -1 || (total >= 10 && total <= 2000)) << total;
    }
  });
  for (auto& t : senders) t.join();
  reader.join();
  const Snapshot m = agg.Merged("run1", T(60));
  EXPECT_EQ(CounterOf(m, names::kRequests), 2000);
  EXPECT_EQ(CounterOf(m, names::kRequests, {{"region", "us"}}), 1000);
  for (const NodeView& v : agg.Nodes("run1", T(60))) EXPECT_EQ(v.seq, 50u);
}

}  // namespace
}  // namespace volley::cluster
