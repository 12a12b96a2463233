// The remote write output against a real loopback receiver (fakes/otlp_test_receiver.h,
// which records remote write bodies too) that fails the ways the issue lists: 503 for a
// while, 429 with Retry-After, 400, a hang, refused connections, and a backlog too small
// for an outage. Every (series, timestamp) must arrive exactly once, oldest first, with
// the wire format's rules. Intervals and backoff run on a FakeClock; HTTP timeouts are real.
#include "volley/output/prometheus_rw_output.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "fakes/otlp_test_receiver.h"
#include "fakes/push_output_test_util.h"
#include "volley/wire/prometheus_rw.h"

namespace volley::output {
namespace {

namespace rw = wire::prometheus;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Answer;
using testing::TestReceiver;

constexpr int64_t kWallStart = 1'800'000'000'000'000'000;
constexpr int64_t kWallStartMs = kWallStart / 1'000'000;

std::string Key(const rw::Labels& labels) {
  std::string k;
  for (const auto& [n, v] : labels) k += n + "=" + v + ",";
  return k;
}

const std::string* Label(const rw::RwSeries& s, const std::string& name) {
  for (const auto& kv : s.labels) {
    if (kv.first == name) return &kv.second;
  }
  return nullptr;
}

class PrometheusRwTest : public testing::PushOutputTest {
 protected:
  PrometheusRwTest() : PushOutputTest(kWallStart) {}

  void Make(const std::string& url, std::vector<std::pair<std::string, std::string>> options = {},
            std::map<std::string, std::string> env = {}) {
    options.insert(options.begin(),
                   {{"push_interval", "10s"}, {"backoff", "1s"}, {"timeout", "5s"}});
    auto out = PrometheusRwOutput::Create(url, options, env, ctx_);
    ASSERT_TRUE(out.has_value()) << out.error().message;
    out_ = std::move(*out);
    out_->set_log_sink(LogSink());
  }
  std::string Url() const {
    return "http://127.0.0.1:" + std::to_string(rx_->port()) + "/api/v1/write";
  }

  // One interval: 7 more requests and one latency, then the clock moves to the next push.
  void Interval() {
    metrics::Snapshot d;
    d.Put({"requests_total", {{"status_code", "200"}}}, metrics::Counter{7});
    metrics::Histogram h;
    h.RecordUnits(1500);
    d.Put({"request_duration_seconds"}, h);
    collector_.AddDelta(d);
    collector_.Tick(clock_.Now());
    const uint64_t before = out_->stats().batches;
    clock_.Advance(seconds(10));
    const auto end = std::chrono::steady_clock::now() + seconds(20);
    while (out_->stats().batches == before && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(milliseconds(1));
    }
    ASSERT_GT(out_->stats().batches, before);
  }

  std::vector<std::vector<rw::RwSeries>> Accepted() const {
    std::vector<std::vector<rw::RwSeries>> out;
    for (const std::string& body : rx_->accepted_bodies()) {
      auto d = rw::DecodeBody(body);
      EXPECT_TRUE(d.has_value()) << (d ? "" : d.error().message);
      if (d) out.push_back(std::move(*d));
    }
    return out;
  }

  // Every (series, timestamp) arrived exactly once; batch timestamps increase in arrival
  // order; volley_requests_total never decreases and ends at the collector's total; labels
  // obey the rules. Returns the number of batches with samples (not only stale markers).
  size_t ExpectEachSampleOnce() {
    std::map<std::pair<std::string, int64_t>, int> seen;
    int64_t prev = 0;
    double prev_value = 0;
    size_t batches = 0;
    for (const auto& batch : Accepted()) {
      bool counted = false;
      for (const rw::RwSeries& s : batch) {
        for (size_t i = 1; i < s.labels.size(); ++i) {
          EXPECT_LT(s.labels[i - 1].first, s.labels[i].first) << Key(s.labels);
        }
        int64_t last_ts = 0;
        for (const rw::RwSample& x : s.samples) {
          EXPECT_GT(x.timestamp_ms, last_ts);
          last_ts = x.timestamp_ms;
          ++seen[{Key(s.labels), x.timestamp_ms}];
        }
        const std::string* name = Label(s, "__name__");
        if (name == nullptr || *name != "volley_requests_total") continue;
        const rw::RwSample& first = s.samples.front();
        if (rw::IsStaleNaN(first.value)) continue;
        EXPECT_GT(first.timestamp_ms, prev) << "batches must arrive oldest first";
        prev = first.timestamp_ms;
        EXPECT_GE(first.value, prev_value);
        prev_value = first.value;
        counted = true;
      }
      batches += counted ? 1 : 0;
    }
    for (const auto& [key, n] : seen) EXPECT_EQ(n, 1) << key.first << " @" << key.second;
    EXPECT_EQ(prev_value, collector_.Cumulative().SumCounter("requests_total"));
    return batches;
  }

  std::unique_ptr<TestReceiver> rx_;  // before out_: the output goes first
  std::unique_ptr<PrometheusRwOutput> out_;
};

TEST(PrometheusRwStatus, RetryableStatusesFollowTheSpec) {
  EXPECT_EQ(ClassifyRemoteWriteStatus(200), RwReplyClass::kOk);
  EXPECT_EQ(ClassifyRemoteWriteStatus(204), RwReplyClass::kOk);
  EXPECT_EQ(ClassifyRemoteWriteStatus(500), RwReplyClass::kRetryable);
  EXPECT_EQ(ClassifyRemoteWriteStatus(503), RwReplyClass::kRetryable);
  EXPECT_EQ(ClassifyRemoteWriteStatus(429), RwReplyClass::kRetryable);
  EXPECT_EQ(ClassifyRemoteWriteStatus(400), RwReplyClass::kFatal);
  EXPECT_EQ(ClassifyRemoteWriteStatus(401), RwReplyClass::kFatal);
  EXPECT_EQ(ClassifyRemoteWriteStatus(404), RwReplyClass::kFatal);
  EXPECT_EQ(ClassifyRemoteWriteStatus(302), RwReplyClass::kFatal);
}

TEST_F(PrometheusRwTest, SeriesValuesHeadersAndStaleMarkers) {
  rx_ = TestReceiver::Start();
  ASSERT_NE(rx_, nullptr);
  Make(Url(), {{"labels", "env=ci"}},
       {{"K6_PROMETHEUS_RW_USERNAME", "u"},
        {"K6_PROMETHEUS_RW_PASSWORD", "p"},
        {"K6_PROMETHEUS_RW_HEADERS_X-Scope-OrgID", "team1"}});
  ASSERT_TRUE(out_->Start(collector_).has_value());
  for (int i = 0; i < 2; ++i) {
    Interval();
    ASSERT_TRUE(rx_->WaitForAccepted(static_cast<size_t>(i) + 1, seconds(20)));
  }
  out_->Stop(clock_.Now() + seconds(5));
  EXPECT_EQ(rx_->last_content_type(), "application/x-protobuf");
  EXPECT_EQ(rx_->last_content_encoding(), "snappy");
  EXPECT_EQ(rx_->last_header("X-Prometheus-Remote-Write-Version"), "0.1.0");
  EXPECT_EQ(rx_->last_header("User-Agent"), "volley/0.1.0");
  EXPECT_EQ(rx_->last_header("Authorization"), "Basic dTpw");  // base64("u:p")
  EXPECT_EQ(rx_->last_header("X-Scope-OrgID"), "team1");

  const auto batches = Accepted();
  ASSERT_EQ(batches.size(), 3u);  // 2 intervals + the last collection
  std::map<std::string, const rw::RwSeries*> first;
  for (const auto& s : batches[0]) first[Key(s.labels)] = &s;
  const std::string req =
      "__name__=volley_requests_total,env=ci,node_id=n,region=eu,run_id=r,status_code=200,";
  ASSERT_TRUE(first.count(req)) << "no " << req;
  EXPECT_EQ(first[req]->samples.size(), 1u);
  EXPECT_EQ(first[req]->samples[0].value, 7.0);
  EXPECT_EQ(first[req]->samples[0].timestamp_ms, kWallStartMs + 10'000);
  // Trends as /metrics serves them: classic buckets, _sum, _count and the _quantile summary.
  const std::string base = "env=ci,node_id=n,region=eu,run_id=r,";
  // Byte order puts le between env and node_id, quantile between node_id and region.
  const auto bucket = [](const std::string& le) {
    return "__name__=volley_request_duration_seconds_bucket,env=ci,le=" + le +
           ",node_id=n,region=eu,run_id=r,";
  };
  ASSERT_TRUE(first.count(bucket("+Inf")));
  ASSERT_TRUE(first.count(bucket("0.0025")));
  ASSERT_TRUE(first.count(bucket("0.001")));
  EXPECT_EQ(first[bucket("+Inf")]->samples[0].value, 1.0);
  EXPECT_EQ(first[bucket("0.0025")]->samples[0].value, 1.0);
  EXPECT_EQ(first[bucket("0.001")]->samples[0].value, 0.0);
  ASSERT_TRUE(first.count("__name__=volley_request_duration_seconds_count," + base));
  EXPECT_TRUE(first.count("__name__=volley_request_duration_seconds_sum," + base));
  EXPECT_TRUE(first.count(
      "__name__=volley_request_duration_seconds_quantile,env=ci,node_id=n,quantile=0.99,"
      "region=eu,run_id=r,"));
  EXPECT_TRUE(first.count("__name__=volley_prometheus_rw_dropped_batches_total," + base));
  EXPECT_EQ(first["__name__=volley_request_duration_seconds_count," + base]->samples[0].value, 1.0);

  // The last batch: final values at t, then a stale marker at t + 1 ms for every series.
  std::set<std::string> keys;
  for (const auto& b : batches) {
    for (const auto& s : b) keys.insert(Key(s.labels));
  }
  ASSERT_EQ(batches[2].size(), keys.size());
  for (const rw::RwSeries& s : batches[2]) {
    ASSERT_EQ(s.samples.size(), 2u) << Key(s.labels);
    EXPECT_FALSE(rw::IsStaleNaN(s.samples[0].value));
    EXPECT_TRUE(rw::IsStaleNaN(s.samples[1].value));
    EXPECT_EQ(s.samples[1].timestamp_ms, s.samples[0].timestamp_ms + 1);
  }
  EXPECT_EQ(ExpectEachSampleOnce(), 3u);
  const PrometheusRwStats st = out_->stats();
  EXPECT_EQ(st.series, keys.size());
  EXPECT_EQ(out_->ReportLines()[0],
            "prometheus-rw: 3 batches to " + Url() +
                ": 3 written, 0 retries, 0 rejected, 0 dropped (backlog full), 0 unsent at stop; " +
                std::to_string(keys.size()) + " series");
}

TEST_F(PrometheusRwTest, ServiceUnavailableIsRetriedThenEverySampleOnce) {
  rx_ = TestReceiver::Start(0, [](uint64_t n) { return n < 5 ? Answer{503} : Answer{}; });
  ASSERT_NE(rx_, nullptr);
  Make(Url(), {}, {{"K6_PROMETHEUS_RW_BEARER_TOKEN", "tok"}});
  ASSERT_TRUE(out_->Start(collector_).has_value());
  for (int i = 0; i < 4; ++i) Interval();
  ASSERT_TRUE(PumpUntil([&] { return out_->stats().queue_bytes == 0; }));
  out_->Stop(clock_.Now() + seconds(5));
  const PrometheusRwStats s = out_->stats();
  EXPECT_EQ(s.writes_retried, 5u);
  EXPECT_EQ(s.writes_failed, 0u);
  EXPECT_EQ(s.dropped_batches, 0u);
  EXPECT_EQ(s.writes_ok, s.batches);
  EXPECT_EQ(ExpectEachSampleOnce(), s.batches);
  EXPECT_EQ(rx_->last_header("Authorization"), "Bearer tok");
  EXPECT_EQ(LogsContaining("HTTP 503"), 1u);
}

TEST_F(PrometheusRwTest, TooManyRequestsWaitsForRetryAfter) {
  rx_ = TestReceiver::Start(0, [](uint64_t n) { return n < 2 ? Answer{429, "3"} : Answer{}; });
  ASSERT_NE(rx_, nullptr);
  Make(Url());
  ASSERT_TRUE(out_->Start(collector_).has_value());
  Interval();
  ASSERT_TRUE(rx_->WaitForRequests(1, seconds(20)));
  const Nanos first = clock_.Now();
  ASSERT_TRUE(PumpUntil([&] { return rx_->requests() >= 2; }));
  EXPECT_GE(clock_.Now() - first, seconds(3));
  ASSERT_TRUE(PumpUntil([&] { return out_->stats().writes_ok == 1; }));
  out_->Stop(clock_.Now() + seconds(5));
  const PrometheusRwStats s = out_->stats();
  EXPECT_EQ(s.writes_retried, 2u);
  EXPECT_EQ(s.writes_ok, s.batches);
  EXPECT_EQ(ExpectEachSampleOnce(), s.batches);
  EXPECT_EQ(LogsContaining("(Retry-After: 3)"), 1u);
}

TEST_F(PrometheusRwTest, BadRequestIsNotRetried) {
  rx_ = TestReceiver::Start(0, [](uint64_t n) {
    return n == 1 ? Answer{400, "", "out of bounds"} : Answer{};
  });
  ASSERT_NE(rx_, nullptr);
  Make(Url());
  ASSERT_TRUE(out_->Start(collector_).has_value());
  for (int i = 0; i < 3; ++i) {
    Interval();
    ASSERT_TRUE(rx_->WaitForRequests(static_cast<uint64_t>(i) + 1, seconds(20)));
  }
  out_->Stop(clock_.Now() + seconds(5));
  const PrometheusRwStats s = out_->stats();
  EXPECT_EQ(s.writes_failed, 1u);
  EXPECT_EQ(s.writes_retried, 0u);
  EXPECT_EQ(s.writes_ok, 3u);
  EXPECT_EQ(rx_->requests(), 4u);  // never re-sent
  EXPECT_EQ(ExpectEachSampleOnce(), 3u);
  EXPECT_EQ(LogsContaining("answered HTTP 400: out of bounds"), 1u);
}

TEST_F(PrometheusRwTest, HangingEndpointTimesOutAndIsRetried) {
  rx_ = TestReceiver::Start(0, [](uint64_t n) { return n == 0 ? Answer{.hang = true} : Answer{}; });
  ASSERT_NE(rx_, nullptr);
  Make(Url(), {{"timeout", "300ms"}});
  ASSERT_TRUE(out_->Start(collector_).has_value());
  Interval();
  ASSERT_TRUE(rx_->WaitForRequests(1, seconds(20)));
  for (int i = 0; i < 3; ++i) Interval();  // collection keeps its interval meanwhile
  EXPECT_EQ(out_->stats().batches, 4u);
  ASSERT_TRUE(PumpUntil([&] { return out_->stats().queue_bytes == 0; }));
  out_->Stop(clock_.Now() + seconds(5));
  rx_->ReleaseHangs();
  const PrometheusRwStats s = out_->stats();
  EXPECT_EQ(s.writes_retried, 1u);
  EXPECT_EQ(s.writes_ok, s.batches);
  EXPECT_EQ(ExpectEachSampleOnce(), s.batches);
}

TEST_F(PrometheusRwTest, RefusedConnectionsThenReceiverAppears) {
  const uint16_t port = testing::FreeLoopbackPort();
  ASSERT_NE(port, 0);
  Make("http://127.0.0.1:" + std::to_string(port) + "/api/v1/write");
  ASSERT_TRUE(out_->Start(collector_).has_value());
  for (int i = 0; i < 3; ++i) Interval();
  ASSERT_TRUE(PumpUntil([&] { return out_->stats().writes_retried >= 3; }));
  rx_ = TestReceiver::Start(port);
  ASSERT_NE(rx_, nullptr) << "port " << port << " was taken meanwhile";
  ASSERT_TRUE(PumpUntil([&] { return out_->stats().queue_bytes == 0; }));
  out_->Stop(clock_.Now() + seconds(5));
  const PrometheusRwStats s = out_->stats();
  EXPECT_GE(s.batches, 4u);
  EXPECT_EQ(s.writes_ok, s.batches);
  EXPECT_EQ(s.dropped_batches, 0u);
  EXPECT_EQ(ExpectEachSampleOnce(), s.batches);
  EXPECT_EQ(LogsContaining("succeeded again after"), 1u);
}

TEST_F(PrometheusRwTest, SmallBacklogDropsAnExactCountOfTheOldest) {
  rx_ = TestReceiver::Start(0, [](uint64_t) { return Answer{503}; });
  ASSERT_NE(rx_, nullptr);
  // Measure one batch (the batches of this test differ by a few snappy bytes at most).
  Make(Url(), {{"stale_markers", "false"}});
  ASSERT_TRUE(out_->Start(collector_).has_value());
  Interval();
  ASSERT_TRUE(PumpUntil([&] { return out_->stats().writes_retried >= 1; }));
  const uint64_t one = out_->stats().queue_bytes;
  ASSERT_GT(one, 0u);
  out_.reset();
  Make(Url(), {{"stale_markers", "false"},
               {"queue_bytes", std::to_string(one * 3 + one / 2)},
               {"backoff", "1h"},
               {"backoff_max", "1h"}});
  ASSERT_TRUE(out_->Start(collector_).has_value());
  for (int i = 0; i < 10; ++i) Interval();
  PrometheusRwStats s = out_->stats();
  EXPECT_EQ(s.batches, 10u);
  EXPECT_EQ(s.dropped_batches, 7u);
  EXPECT_LE(s.queue_bytes, one * 3 + one / 2);  // 3 batches (snappy sizes vary a little)
  EXPECT_EQ(rx_->accepted_bodies().size(), 0u);
  rx_->SetScript(nullptr);                // recovered: 200 from now on
  out_->Stop(clock_.Now() + seconds(5));  // the flush sends the backlog at once
  s = out_->stats();
  EXPECT_EQ(s.dropped_batches, 8u);  // the last collection pushed out one more
  EXPECT_EQ(s.unsent_at_stop, 0u);
  EXPECT_EQ(s.writes_ok, 3u);
  EXPECT_EQ(ExpectEachSampleOnce(), 3u);
  EXPECT_NE(out_->ReportLines()[0].find("8 dropped (backlog full)"), std::string::npos);
}

}  // namespace
}  // namespace volley::output
