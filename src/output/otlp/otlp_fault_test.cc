// The reporter against a real loopback OTLP/HTTP receiver (test_receiver.h) that fails in
// the ways the issue lists: 503 for a while, 429 with Retry-After, 400, a hang, refused
// connections, and a queue too small for an outage. After recovery every interval's point
// must have arrived exactly once per (series, timestamp), oldest first. Intervals and
// backoff run on a FakeClock that the test advances; HTTP timeouts are real.
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <set>

#include "fakes/otlp_test_receiver.h"
#include "fakes/push_output_test_util.h"
#include "volley/output/otlp_output.h"

namespace volley::output {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Answer;
using testing::DecodedRequest;
using testing::TestReceiver;

constexpr int64_t kWallStart = 1'800'000'000'000'000'000;

class OtlpFaultTest : public testing::PushOutputTest {
 protected:
  OtlpFaultTest() : PushOutputTest(kWallStart) {}

  void Make(const std::string& url, std::vector<std::pair<std::string, std::string>> options = {},
            std::map<std::string, std::string> env = {}) {
    options.insert(options.begin(), {{"interval", "10s"}, {"backoff", "1s"}, {"timeout", "5s"}});
    auto out = OtlpOutput::Create(url, options, env, ctx_);
    ASSERT_TRUE(out.has_value()) << out.error().message;
    out_ = std::move(*out);
    out_->set_log_sink(LogSink());
  }

  // One interval: 7 more requests, then the fake clock moves to the next collection.
  void Interval() {
    metrics::Snapshot d;
    d.Put({"requests_total"}, metrics::Counter{7});
    collector_.AddDelta(d);
    collector_.Tick(clock_.Now());
    const uint64_t before = out_->collections();
    clock_.Advance(seconds(10));
    const auto end = std::chrono::steady_clock::now() + seconds(20);
    while (out_->collections() == before && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(milliseconds(1));
    }
    ASSERT_GT(out_->collections(), before);
  }

  // Every (series, timestamp) arrived exactly once, timestamps in arrival order increase,
  // cumulative volley_requests_total never decreases and ends at the collector's total.
  // Returns the number of distinct timestamps.
  size_t ExpectEachPointOnce(const TestReceiver& rx) {
    std::map<std::pair<std::string, uint64_t>, int> seen;
    uint64_t prev = 0;
    double prev_value = 0;
    std::set<uint64_t> times;
    for (const DecodedRequest& r : rx.accepted()) {
      EXPECT_TRUE(r.ok);
      for (const auto& p : r.points) ++seen[{p.metric + "{" + p.attrs + "}", p.time}];
      const auto* req = r.Find("volley_requests_total");
      if (req == nullptr) {
        ADD_FAILURE() << "no volley_requests_total";
        continue;
      }
      EXPECT_GT(req->time, prev) << "batches must arrive oldest first";
      prev = req->time;
      times.insert(req->time);
      EXPECT_EQ(req->start, static_cast<uint64_t>(kWallStart));
      EXPECT_GE(req->value, prev_value);
      prev_value = req->value;
    }
    for (const auto& [key, n] : seen) EXPECT_EQ(n, 1) << key.first << " @" << key.second;
    EXPECT_EQ(prev_value, collector_.Cumulative().SumCounter("requests_total"));
    return times.size();
  }

  // Declared before out_, so the reporter (and its keep-alive connection) goes first.
  std::unique_ptr<TestReceiver> rx_;
  std::unique_ptr<OtlpOutput> out_;
};

TEST_F(OtlpFaultTest, ServiceUnavailableForAWhileThenEveryPointOnce) {
  rx_ = TestReceiver::Start(0, [](uint64_t n) { return n < 5 ? Answer{503} : Answer{}; });
  ASSERT_NE(rx_, nullptr);
  Make(rx_->url(), {{"compression", "gzip"}},
       {{"OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=secret"}, {"OTEL_SERVICE_NAME", "lt"}});
  ASSERT_TRUE(out_->Start(collector_).has_value());
  for (int i = 0; i < 4; ++i) Interval();
  ASSERT_TRUE(PumpUntil([&] { return out_->stats().queue_batches == 0; }));
  out_->Stop(clock_.Now() + seconds(5));
  const OtlpStats s = out_->stats();
  EXPECT_EQ(s.exports_retried, 5u);
  EXPECT_EQ(s.exports_failed, 0u);
  EXPECT_EQ(s.dropped_batches, 0u);
  EXPECT_EQ(s.exports_ok, s.batches);
  EXPECT_EQ(ExpectEachPointOnce(*rx_), s.batches);
  EXPECT_EQ(rx_->last_content_type(), "application/x-protobuf");
  EXPECT_EQ(rx_->last_content_encoding(), "gzip");
  EXPECT_EQ(rx_->last_header("x-api-key"), "secret");
  EXPECT_EQ(rx_->accepted().back().resource.at("service.name"), "lt");
  EXPECT_EQ(LogsContaining("HTTP 503"), 1u);
}

TEST_F(OtlpFaultTest, TooManyRequestsWithRetryAfter) {
  rx_ = TestReceiver::Start(0, [](uint64_t n) { return n < 2 ? Answer{429, "3"} : Answer{}; });
  ASSERT_NE(rx_, nullptr);
  Make(rx_->url());
  ASSERT_TRUE(out_->Start(collector_).has_value());
  Interval();
  ASSERT_TRUE(rx_->WaitForRequests(1, seconds(20)));
  // Retry-After: 3 means no request before 3 s (fake) have passed.
  const Nanos first = clock_.Now();
  ASSERT_TRUE(PumpUntil([&] { return rx_->requests() >= 2; }));
  EXPECT_GE(clock_.Now() - first, seconds(3));
  ASSERT_TRUE(PumpUntil([&] { return out_->stats().exports_ok == 1; }));
  out_->Stop(clock_.Now() + seconds(5));
  const OtlpStats s = out_->stats();
  EXPECT_EQ(s.exports_retried, 2u);
  EXPECT_EQ(s.exports_ok, s.batches);
  EXPECT_EQ(ExpectEachPointOnce(*rx_), s.batches);
  EXPECT_EQ(LogsContaining("(Retry-After: 3)"), 1u);
}

TEST_F(OtlpFaultTest, BadRequestDropsOnlyThatBatch) {
  rx_ = TestReceiver::Start(0, [](uint64_t n) { return n == 1 ? Answer{400} : Answer{}; });
  ASSERT_NE(rx_, nullptr);
  Make(rx_->url());
  ASSERT_TRUE(out_->Start(collector_).has_value());
  for (int i = 0; i < 3; ++i) {
    Interval();
    ASSERT_TRUE(rx_->WaitForRequests(static_cast<uint64_t>(i) + 1, seconds(20)));
  }
  out_->Stop(clock_.Now() + seconds(5));
  const OtlpStats s = out_->stats();
  EXPECT_EQ(s.exports_failed, 1u);
  EXPECT_EQ(s.exports_retried, 0u);
  EXPECT_EQ(s.exports_ok, 3u);
  EXPECT_EQ(rx_->requests(), 4u);            // never re-sent
  EXPECT_EQ(ExpectEachPointOnce(*rx_), 3u);  // the 1st, 3rd and the last collection
  EXPECT_EQ(LogsContaining("answered HTTP 400"), 1u);
}

TEST_F(OtlpFaultTest, HangingEndpointTimesOutAndCollectionKeepsItsInterval) {
  rx_ = TestReceiver::Start(0, [](uint64_t n) { return n == 0 ? Answer{.hang = true} : Answer{}; });
  ASSERT_NE(rx_, nullptr);
  Make(rx_->url(), {{"timeout", "300ms"}});
  ASSERT_TRUE(out_->Start(collector_).has_value());
  Interval();
  ASSERT_TRUE(rx_->WaitForRequests(1, seconds(20)));
  // While the exporter waits for the hung answer, collections go on every interval.
  for (int i = 0; i < 3; ++i) Interval();
  EXPECT_EQ(out_->collections(), 4u);
  ASSERT_TRUE(PumpUntil([&] { return out_->stats().queue_batches == 0; }));
  out_->Stop(clock_.Now() + seconds(5));
  rx_->ReleaseHangs();
  const OtlpStats s = out_->stats();
  EXPECT_EQ(s.exports_retried, 1u);  // the timed-out request
  EXPECT_GE(s.batches, 5u);          // 4 intervals, the last collection, maybe more
  EXPECT_EQ(s.exports_ok, s.batches);
  EXPECT_EQ(ExpectEachPointOnce(*rx_), s.batches);
  EXPECT_EQ(LogsContaining("failed, retrying with backoff"), 1u);
}

TEST_F(OtlpFaultTest, StopMeetsItsDeadlineWhileTheEndpointHangs) {
  rx_ = TestReceiver::Start(0, [](uint64_t) { return Answer{.hang = true}; });
  ASSERT_NE(rx_, nullptr);
  ctx_.clock = &SteadyClock::Instance();  // real time end to end
  ctx_.collector_start = SteadyClock::Instance().Now();
  Make(rx_->url(), {{"timeout", "60s"}, {"interval", "50ms"}});
  ASSERT_TRUE(out_->Start(collector_).has_value());
  ASSERT_TRUE(rx_->WaitForRequests(1, seconds(20)));
  const auto t0 = std::chrono::steady_clock::now();
  out_->Stop(SteadyClock::Instance().Now() + milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, milliseconds(250));  // it did wait for the deadline
  EXPECT_LT(took, seconds(10));        // not for the 60 s request timeout
  const OtlpStats s = out_->stats();
  EXPECT_EQ(s.exports_ok, 0u);
  EXPECT_EQ(s.unsent_at_stop, s.batches);
  EXPECT_GE(s.batches, 2u);  // at least one interval and the last collection
  rx_->Stop();
}

TEST_F(OtlpFaultTest, RefusedConnectionsThenReceiverAppears) {
  const uint16_t port = testing::FreeLoopbackPort();
  ASSERT_NE(port, 0);
  Make("http://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(out_->Start(collector_).has_value());
  for (int i = 0; i < 3; ++i) Interval();
  ASSERT_TRUE(PumpUntil([&] { return out_->stats().exports_retried >= 3; }));
  rx_ = TestReceiver::Start(port);
  ASSERT_NE(rx_, nullptr) << "port " << port << " was taken meanwhile";
  ASSERT_TRUE(PumpUntil([&] { return out_->stats().queue_batches == 0; }));
  out_->Stop(clock_.Now() + seconds(5));
  const OtlpStats s = out_->stats();
  EXPECT_GE(s.batches, 4u);
  EXPECT_EQ(s.exports_ok, s.batches);
  EXPECT_EQ(s.dropped_batches, 0u);
  EXPECT_EQ(ExpectEachPointOnce(*rx_), s.batches);
  EXPECT_EQ(LogsContaining("succeeded again after"), 1u);
}

TEST_F(OtlpFaultTest, SmallQueueDropsAnExactCountOfTheOldest) {
  rx_ = TestReceiver::Start(0, [](uint64_t) { return Answer{503}; });
  ASSERT_NE(rx_, nullptr);
  // Measure one batch (every batch of this test has the same size: fixed-width fields).
  Make(rx_->url());
  ASSERT_TRUE(out_->Start(collector_).has_value());
  Interval();
  ASSERT_TRUE(PumpUntil([&] { return out_->stats().exports_retried >= 1; }));
  const uint64_t one = out_->stats().queue_bytes;
  ASSERT_GT(one, 0u);
  out_.reset();
  // Room for 3 batches; 10 intervals while the endpoint answers 503.
  Make(rx_->url(), {{"queue_bytes", std::to_string(one * 3 + one / 2)},
                    {"backoff", "1h"},
                    {"backoff_max", "1h"}});
  ASSERT_TRUE(out_->Start(collector_).has_value());
  for (int i = 0; i < 10; ++i) Interval();
  OtlpStats s = out_->stats();
  EXPECT_EQ(s.batches, 10u);
  EXPECT_EQ(s.dropped_batches, 7u);
  EXPECT_EQ(s.queue_batches, 3u);
  const uint64_t before = rx_->accepted().size();
  EXPECT_EQ(before, 0u);
  rx_->SetScript(nullptr);                // recovered: 200 from now on
  out_->Stop(clock_.Now() + seconds(5));  // the flush sends the backlog at once
  s = out_->stats();
  EXPECT_EQ(s.dropped_batches, 8u);  // the last collection pushed out one more
  EXPECT_EQ(s.unsent_at_stop, 0u);
  EXPECT_EQ(s.exports_ok, 3u);
  EXPECT_EQ(ExpectEachPointOnce(*rx_), 3u);
  EXPECT_EQ(s.batches - s.dropped_batches, 3u);
  EXPECT_NE(out_->ReportLines()[0].find("8 dropped (queue full)"), std::string::npos);
}

}  // namespace
}  // namespace volley::output
