// The cloud output against a loopback ingest that always accepts: what arrives, with
// which headers, in which batches, in v2 and v1.
#include "volley/output/cloud_output.h"

#include <gtest/gtest.h>

#include "fakes/cloud_test_util.h"
#include "fakes/fake_ingest.h"

namespace volley::output {
namespace {

using std::chrono::seconds;
using testing::ExpectSameTotals;
using testing::FakeIngest;
using testing::Fast;
using testing::MakeOutput;
using testing::PastRun;

Nanos In(int s) { return testing::In(seconds(s)); }

TEST(CloudOutput, PushesEverythingWithTheSpecsHeaders) {
  FakeIngest ingest;
  ASSERT_TRUE(ingest.Start());
  PastRun run;
  auto out = MakeOutput(ingest.url(), Fast({{"token", "tok-1"}}), run);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  run.Feed(4);
  // Pushed while the run goes on, before Stop.
  ASSERT_TRUE(ingest.WaitFor(
      [](const FakeIngest& f) { return f.values_stored() >= 4 * testing::kSeriesPerInterval; },
      std::chrono::seconds(20)));
  run.Feed(3);
  out->Stop(In(20));

  ExpectSameTotals(run.collector.Cumulative(), ingest.Totals());
  const CloudStats s = out->stats();
  EXPECT_EQ(s.samples_sent, 7u * testing::kSeriesPerInterval);
  EXPECT_EQ(ingest.values_stored(), 7u * testing::kSeriesPerInterval);
  EXPECT_EQ(ingest.distinct_values(), 7u * testing::kSeriesPerInterval);
  EXPECT_EQ(s.batches_dropped, 0u);
  EXPECT_EQ(s.samples_dropped, 0u);
  EXPECT_EQ(s.retries, 0u);
  EXPECT_EQ(s.batches_sent, ingest.stored_requests());
  EXPECT_EQ(ingest.duplicate_requests(), 0u);
  EXPECT_FALSE(out->WantsAbort());

  std::set<std::string> keys;
  for (const auto& r : ingest.requests()) {
    EXPECT_TRUE(r.decoded) << r.error;
    EXPECT_EQ(r.path, "/v2/metrics/run-1");
    EXPECT_EQ(r.headers.at("Content-Type"), "application/x-protobuf");
    EXPECT_EQ(r.headers.at("Content-Encoding"), "snappy");
    EXPECT_EQ(r.headers.at("K6-Metrics-Protocol-Version"), "2.0");
    EXPECT_EQ(r.headers.at("Authorization"), "Token tok-1");
    EXPECT_EQ(r.headers.at("User-Agent"), "volley/0.1.0");
    const std::string& key = r.headers.at("K6-Idempotency-Key");
    EXPECT_EQ(key.size(), 16u);
    EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos) << key;
    keys.insert(key);
  }
  EXPECT_EQ(keys.size(), ingest.requests().size());  // a new key for every request

  const auto lines = out->ReportLines();
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines[0].find(std::to_string(s.batches_sent) + " requests (35 samples"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[0].find("0 batches dropped"), std::string::npos) << lines[0];
}

TEST(CloudOutput, BucketsWaitForTheWaitPeriodOnTheContextsClock) {
  FakeIngest ingest;
  ASSERT_TRUE(ingest.Start());
  FakeClock clock;
  const Nanos s0 = clock.Now();
  metrics::Collector collector(s0);
  OutputContext ctx;
  ctx.collector_start = s0;
  ctx.wall_start_unix_nanos = 1'700'000'001LL * testing::kSec;  // 3 s aligned
  ctx.run_id = "run-1";
  ctx.clock = &clock;
  auto out = CloudOutput::Create(
      ingest.url(), {{"aggregationPeriod", "3s"}, {"waitPeriod", "8s"}, {"pushInterval", "1s"}}, {},
      ctx);
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_TRUE((*out)->Start(collector));
  for (int k = 1; k <= 6; ++k) {  // buckets [0, 3) and [3, 6) of the run
    collector.AddDelta(testing::DeltaOf(k));
    collector.Tick(s0 + seconds(k));
  }
  clock.Set(s0 + seconds(6));
  // The first bucket ends at 3 s: due at 3 + 8 = 11 s, the second at 14 s.
  clock.Set(s0 + seconds(11));
  ASSERT_TRUE(
      ingest.WaitFor([](const FakeIngest& f) { return f.stored_requests() == 1; }, seconds(20)));
  EXPECT_EQ(ingest.times(), (std::set<int64_t>{1'700'000'001}));
  EXPECT_EQ(ingest.distinct_values(), 1u * testing::kSeriesPerInterval);
  clock.Set(s0 + seconds(14));
  ASSERT_TRUE(
      ingest.WaitFor([](const FakeIngest& f) { return f.stored_requests() == 2; }, seconds(20)));
  EXPECT_EQ(ingest.times(), (std::set<int64_t>{1'700'000'001, 1'700'000'004}));
  (*out)->Stop(clock.Now() + seconds(15));
  EXPECT_EQ(ingest.stored_requests(), 2u);
  ExpectSameTotals(collector.Cumulative(), ingest.Totals());
}

TEST(CloudOutput, BatchesAreCutAtMaxSeries) {
  FakeIngest ingest;
  ASSERT_TRUE(ingest.Start());
  PastRun run;
  run.Feed(3);  // read in the output's first round: 5 series, 3 buckets
  auto out = MakeOutput(ingest.url(), Fast({{"maxSeriesInBatch", "2"}}), run);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  out->Stop(In(20));
  const auto requests = ingest.requests();
  ASSERT_EQ(requests.size(), 3u);  // 2 + 2 + 1 series
  EXPECT_EQ(requests[0].series + requests[1].series + requests[2].series, 5u);
  for (const auto& r : requests) EXPECT_LE(r.series, 2u);
  ExpectSameTotals(run.collector.Cumulative(), ingest.Totals());
}

TEST(CloudOutput, LateDeltasAreResentWithoutDoubleCounting) {
  FakeIngest ingest;
  ASSERT_TRUE(ingest.Start());
  PastRun run;
  // 3 s buckets: the output reads after interval 1 and sends bucket [0, 3) with it alone;
  // intervals 2 and 3 of that bucket arrive late and go again with the same time.
  auto out = MakeOutput(ingest.url(), Fast({{"aggregationPeriod", "3s"}}), run);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  run.Feed(1);
  ASSERT_TRUE(ingest.WaitFor([](const FakeIngest& f) { return f.stored_requests() >= 1; },
                             std::chrono::seconds(20)));
  run.Feed(5);
  out->Stop(In(20));
  EXPECT_GE(out->stats().late_buckets, 1u);
  // 5 series in 2 buckets, whatever the number of (re)sends.
  EXPECT_EQ(ingest.distinct_values(), 2u * testing::kSeriesPerInterval);
  EXPECT_GT(ingest.values_stored(), ingest.distinct_values());
  ExpectSameTotals(run.collector.Cumulative(), ingest.Totals());
}

TEST(CloudOutput, IntervalsTheCollectorDroppedAreReported) {
  FakeIngest ingest;
  ASSERT_TRUE(ingest.Start());
  PastRun run;
  metrics::Collector small(run.start, /*max_intervals=*/2);
  for (int k = 1; k <= 5; ++k) {
    small.AddDelta(testing::DeltaOf(k));
    small.Tick(run.start + seconds(k));
  }
  auto out = MakeOutput(ingest.url(), Fast(), run);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(small));
  out->Stop(In(20));
  const CloudStats s = out->stats();
  EXPECT_EQ(s.missed_intervals, 1u);                            // one gap: intervals 1 to 3
  EXPECT_EQ(s.samples_sent, 2u * testing::kSeriesPerInterval);  // intervals 4 and 5
  bool reported = false;
  for (const auto& l : out->ReportLines()) reported |= l.find("LOST 1 ") != std::string::npos;
  EXPECT_TRUE(reported);
}

TEST(CloudOutput, ApiVersion1SendsJsonToTheV1Path) {
  FakeIngest ingest;
  ASSERT_TRUE(ingest.Start());
  PastRun run;
  run.Feed(4);
  auto out = MakeOutput(ingest.url(), Fast(), run, {{"K6_CLOUD_API_VERSION", "1"}});
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  out->Stop(In(20));
  const auto requests = ingest.requests();
  ASSERT_FALSE(requests.empty());
  for (const auto& r : requests) {
    EXPECT_TRUE(r.decoded) << r.error;
    EXPECT_EQ(r.path, "/v1/metrics/run-1");
    EXPECT_EQ(r.headers.at("Content-Type"), "application/json");
    EXPECT_EQ(r.headers.count("Content-Encoding"), 0u);
    EXPECT_EQ(r.headers.at("K6-Idempotency-Key").size(), 16u);
  }
  const metrics::Snapshot fed = run.collector.Cumulative();
  const metrics::Snapshot got = ingest.Totals();
  // Counters and rates are exact in v1; trends arrive as counts; gauges as last values.
  const auto* ok = got.FindCounter("volley_requests_total", {{"status_code", "200"}});
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->value, 1 + 2 + 3 + 4);
  EXPECT_EQ(got.FindCounter("volley_requests_total", {{"status_code", "500"}})->value, 4);
  ASSERT_NE(got.FindRate("volley_checks"), nullptr);
  EXPECT_EQ(*got.FindRate("volley_checks"), *fed.FindRate("checks"));
  const auto counts = ingest.V1TrendCounts();
  ASSERT_EQ(counts.count(metrics::SeriesKey("volley_request_duration_seconds")), 1u);
  EXPECT_EQ(counts.at(metrics::SeriesKey("volley_request_duration_seconds")), 1u + 2 + 3 + 4);
  const auto* gauge = got.FindGauge("volley_concurrent_requests");
  ASSERT_NE(gauge, nullptr);
  EXPECT_EQ(gauge->count, 4u);  // one Point per bucket
  EXPECT_EQ(gauge->max, 8);     // the last value of the last bucket (2 * 4)
}

TEST(CloudOutput, K6NamesOnTheWire) {
  FakeIngest ingest;
  ASSERT_TRUE(ingest.Start());
  PastRun run;
  run.Feed(2);
  auto out = MakeOutput(ingest.url(), Fast({{"metricNames", "k6"}}), run);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  out->Stop(In(20));
  const metrics::Snapshot got = ingest.Totals();
  ASSERT_NE(got.FindCounter("http_reqs", {{"status", "200"}}), nullptr);
  EXPECT_EQ(got.FindCounter("http_reqs", {{"status", "200"}})->value, 3);
  const metrics::Histogram* ms = got.FindTrend("http_req_duration");
  ASSERT_NE(ms, nullptr);
  EXPECT_EQ(ms->count(), 3u);
  EXPECT_DOUBLE_EQ(ms->min(), 1.0);    // 1000 µs
  EXPECT_DOUBLE_EQ(ms->max(), 2.037);  // 2037 µs
  EXPECT_NE(got.FindGauge("volley_concurrent_requests"), nullptr);
}

TEST(CloudOutput, CreateRejectsBadConfiguration) {
  PastRun run;
  auto bad = CloudOutput::Create("http://127.0.0.1:1", {{"pushConcurrency", "-1"}}, {}, run.ctx);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("pushConcurrency"), std::string::npos);
  auto env_bad =
      CloudOutput::Create("http://127.0.0.1:1", {}, {{"K6_CLOUD_TIMEOUT", "x"}}, run.ctx);
  ASSERT_FALSE(env_bad);
  EXPECT_NE(env_bad.error().message.find("K6_CLOUD_TIMEOUT"), std::string::npos);
  EXPECT_NE(CloudOutput::CloudEnvDocs().find("K6_CLOUD_AGGREGATION_PERIOD"), std::string::npos);
}

TEST(CloudOutput, StopIsIdempotentAndWorksWithoutStart) {
  PastRun run;
  auto idle = MakeOutput("http://127.0.0.1:1", Fast(), run);
  ASSERT_NE(idle, nullptr);
  idle->Stop(In(1));
  idle->Stop(In(1));
  EXPECT_EQ(idle->stats().attempts, 0u);

  FakeIngest ingest;
  ASSERT_TRUE(ingest.Start());
  auto out = MakeOutput(ingest.url(), Fast(), run);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  EXPECT_FALSE(out->Start(run.collector));  // twice is an error
  run.Feed(1);
  out->Stop(In(20));
  const uint64_t sent = out->stats().samples_sent;
  EXPECT_EQ(sent, 1u * testing::kSeriesPerInterval);
  out->Stop(In(20));
  EXPECT_EQ(out->stats().samples_sent, sent);
}

TEST(CloudOutput, ConcurrentSendersDeliverEverythingOnce) {
  FakeIngest ingest;
  ASSERT_TRUE(ingest.Start());
  PastRun run;
  auto out =
      MakeOutput(ingest.url(), Fast({{"pushConcurrency", "4"}, {"maxSeriesInBatch", "1"}}), run);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  run.Feed(10);
  out->Stop(In(30));
  EXPECT_EQ(out->stats().samples_sent, 10u * testing::kSeriesPerInterval);
  EXPECT_EQ(ingest.distinct_values(), 10u * testing::kSeriesPerInterval);
  ExpectSameTotals(run.collector.Cumulative(), ingest.Totals());
}

}  // namespace
}  // namespace volley::output
