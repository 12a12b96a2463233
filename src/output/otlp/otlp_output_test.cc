// The reporter with a FakeClock and a scripted in-memory transport: intervals, backoff,
// Retry-After, queue bound, deadlines and lifecycle without a network and without sleeping
// (waits are on conditions, with timeouts).
#include "volley/output/otlp_output.h"

#include <gtest/gtest.h>

#include <deque>
#include <future>
#include <set>

#include "fakes/otlp_test_receiver.h"
#include "fakes/scripted_transport.h"
#include "otlp_transport.h"

namespace volley::output {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::DecodedRequest;
using testing::DecodeRequest;

constexpr int64_t kWallStart = 1'700'000'000'000'000'000;

using FakeTransport = testing::ScriptedTransport;
using testing::AdvanceUntil;
using testing::Eventually;

class OtlpOutputTest : public ::testing::Test {
 protected:
  OtlpOutputTest() : collector_(clock_.Now()) {
    ctx_.collector_start = clock_.Now();
    ctx_.wall_start_unix_nanos = kWallStart;
    ctx_.run_id = "run1";
    ctx_.node_id = "node1";
    ctx_.region = "eu";
    ctx_.clock = &clock_;
    settings_.interval = seconds(10);
  }

  void Make() {
    auto t = std::make_unique<FakeTransport>(clock_);
    transport_ = t.get();
    auto out = OtlpOutput::CreateWithTransport(settings_, ctx_, std::move(t));
    ASSERT_TRUE(out.has_value()) << out.error().message;
    out_ = std::move(*out);
    out_->set_log_sink([this](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_.push_back(line);
    });
  }

  // Adds to the collector and ticks it.
  void Record(double requests, uint64_t latency_us) {
    metrics::Snapshot d;
    d.Put({"requests_total", {{"status_code", "200"}}}, metrics::Counter{requests});
    metrics::Histogram h;
    h.RecordUnits(latency_us);
    d.Put({"request_duration_seconds"}, h);
    collector_.AddDelta(d);
    collector_.Tick(clock_.Now());
  }

  // Advances one interval and waits for the collection it causes.
  void NextInterval() {
    const uint64_t before = out_->collections();
    clock_.Advance(settings_.interval);
    ASSERT_TRUE(Eventually([&] { return out_->collections() > before; }));
  }

  std::vector<std::string> Logs() {
    std::lock_guard<std::mutex> lock(log_mu_);
    return log_;
  }

  FakeClock clock_;
  metrics::Collector collector_;
  OutputContext ctx_;
  OtlpSettings settings_;
  FakeTransport* transport_ = nullptr;
  std::unique_ptr<OtlpOutput> out_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

TEST_F(OtlpOutputTest, OneBatchPerIntervalWithExactValuesAndTimestamps) {
  Make();
  ASSERT_TRUE(out_->Start(collector_).has_value());
  for (int i = 1; i <= 3; ++i) {
    Record(10, 1500);
    NextInterval();
    ASSERT_TRUE(transport_->WaitForCalls(static_cast<size_t>(i)));
  }
  out_->Stop(clock_.Now() + seconds(5));
  const auto calls = transport_->calls();
  ASSERT_EQ(calls.size(), 4u);  // 3 intervals + the last collection at Stop
  for (size_t i = 0; i < 3; ++i) {
    const DecodedRequest r = DecodeRequest(calls[i].body, false);
    ASSERT_TRUE(r.ok);
    const auto* req = r.Find("volley_requests_total", "status_code=200");
    ASSERT_NE(req, nullptr);
    EXPECT_EQ(req->value, 10.0 * static_cast<double>(i + 1));
    EXPECT_EQ(req->start, static_cast<uint64_t>(kWallStart));
    EXPECT_EQ(req->time, static_cast<uint64_t>(kWallStart + 10'000'000'000 * (int64_t(i) + 1)));
    EXPECT_EQ(req->attrs, "node_id=node1,region=eu,run_id=run1,status_code=200");
    const auto* lat = r.Find("volley_request_duration_seconds");
    ASSERT_NE(lat, nullptr);
    EXPECT_EQ(lat->count, i + 1);
    EXPECT_EQ(lat->bucket_total, i + 1);
    EXPECT_DOUBLE_EQ(lat->sum, 0.0015 * static_cast<double>(i + 1));
    EXPECT_EQ(lat->bounds.size(), 16u);  // the Prometheus default bounds
    EXPECT_EQ(r.resource.at("service.name"), "volley");
    EXPECT_EQ(r.resource.at("service.instance.id"), "node1");
  }
  // The last batch has a later timestamp even though the clock did not move.
  const DecodedRequest last = DecodeRequest(calls[3].body, false);
  EXPECT_EQ(last.Find("volley_requests_total")->time,
            static_cast<uint64_t>(kWallStart + 30'000'000'001));
  const OtlpStats s = out_->stats();
  EXPECT_EQ(s.batches, 4u);
  EXPECT_EQ(s.exports_ok, 4u);
  EXPECT_EQ(s.queue_bytes, 0u);
  EXPECT_EQ(out_->ReportLines()[0],
            "otlp: 4 batches to http://localhost:4318/v1/metrics: 4 exported, 0 retries, 0 "
            "rejected, 0 dropped (queue full), 0 unsent at stop");
}

TEST_F(OtlpOutputTest, FiltersLabelsAndSelfMetrics) {
  settings_.include = {"^volley_request", "otlp_dropped"};
  settings_.exclude = {"duration"};
  settings_.labels = {{"team", "perf"}, {"region", "override"}};
  Make();
  ASSERT_TRUE(out_->Start(collector_).has_value());
  Record(5, 100);
  NextInterval();
  ASSERT_TRUE(transport_->WaitForCalls(1));
  out_->Stop(clock_.Now());
  const DecodedRequest r = DecodeRequest(transport_->calls()[0].body, false);
  std::set<std::string> names;
  for (const auto& p : r.points) names.insert(p.metric);
  EXPECT_EQ(names,
            (std::set<std::string>{"volley_requests_total", "volley_otlp_dropped_batches_total"}));
  EXPECT_EQ(r.Find("volley_requests_total")->attrs,
            "node_id=node1,region=override,run_id=run1,status_code=200,team=perf");
}

TEST_F(OtlpOutputTest, RetryableFailuresBackOffThenSucceedOnce) {
  settings_.backoff_initial = seconds(1);
  Make();
  transport_->Script({{503}, {-1}, {200}});
  ASSERT_TRUE(out_->Start(collector_).has_value());
  Record(1, 100);
  NextInterval();
  ASSERT_TRUE(transport_->WaitForCalls(1));
  // Advance in 100 ms steps until the retries happened.
  ASSERT_TRUE(AdvanceUntil(clock_, milliseconds(100), *transport_, 3));
  const auto calls = transport_->calls();
  const Nanos gap1 = calls[1].at - calls[0].at;
  const Nanos gap2 = calls[2].at - calls[1].at;
  // 1 s and 2 s ± 20 %; the upper bounds allow for a thread that reacts a few steps late.
  EXPECT_GE(gap1, milliseconds(800));
  EXPECT_LE(gap1, milliseconds(1200 + 1000));
  EXPECT_GE(gap2, milliseconds(1600));
  EXPECT_LE(gap2, milliseconds(2400 + 1000));
  EXPECT_EQ(calls[0].body, calls[2].body);  // the same batch, re-sent unchanged
  ASSERT_TRUE(Eventually([&] { return out_->stats().exports_ok == 1; }));
  const OtlpStats s = out_->stats();
  EXPECT_EQ(s.exports_retried, 2u);
  EXPECT_EQ(s.exports_failed, 0u);
  out_->Stop(clock_.Now());
  const auto logs = Logs();
  ASSERT_GE(logs.size(), 3u);
  EXPECT_NE(logs[0].find("failed, retrying with backoff: HTTP 503"), std::string::npos);
  EXPECT_NE(logs[1].find("failed, retrying with backoff: Connection"), std::string::npos);
  EXPECT_NE(logs[2].find("succeeded again after 2 failed attempts"), std::string::npos);
}

TEST_F(OtlpOutputTest, RetryAfterIsHonoured) {
  Make();
  transport_->Script({{429, "7"}, {200}});
  ASSERT_TRUE(out_->Start(collector_).has_value());
  NextInterval();
  ASSERT_TRUE(transport_->WaitForCalls(1));
  ASSERT_TRUE(AdvanceUntil(clock_, milliseconds(250), *transport_, 2));
  const auto calls = transport_->calls();
  EXPECT_GE(calls[1].at - calls[0].at, seconds(7));
  EXPECT_LE(calls[1].at - calls[0].at, seconds(8));
  out_->Stop(clock_.Now());
}

TEST_F(OtlpOutputTest, NonRetryableDropsTheBatchAndLogsOncePerStatus) {
  Make();
  transport_->Script({{400}, {400}, {401}}, {200});
  ASSERT_TRUE(out_->Start(collector_).has_value());
  for (int i = 1; i <= 4; ++i) {
    NextInterval();
    ASSERT_TRUE(transport_->WaitForCalls(static_cast<size_t>(i)));
  }
  ASSERT_TRUE(Eventually([&] { return out_->stats().exports_ok == 1; }));
  out_->Stop(clock_.Now() + seconds(5));
  const OtlpStats s = out_->stats();
  EXPECT_EQ(s.exports_failed, 3u);
  EXPECT_EQ(s.exports_retried, 0u);
  EXPECT_EQ(s.exports_ok, 2u);                // the 4th interval and the last collection
  EXPECT_EQ(transport_->calls().size(), 5u);  // nothing re-sent
  const auto logs = Logs();
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_NE(logs[0].find("answered HTTP 400"), std::string::npos);
  EXPECT_NE(logs[1].find("answered HTTP 401"), std::string::npos);
}

TEST_F(OtlpOutputTest, PartialSuccessIsLoggedNotRetried) {
  Make();
  // ExportMetricsServiceResponse{partial_success{rejected_data_points: 2, error_message: "x"}}
  const std::string partial("\x0a\x05\x08\x02\x12\x01x", 7);
  transport_->Script({{200, "", partial}});
  ASSERT_TRUE(out_->Start(collector_).has_value());
  NextInterval();
  ASSERT_TRUE(transport_->WaitForCalls(1));
  out_->Stop(clock_.Now() + seconds(5));
  const OtlpStats s = out_->stats();
  EXPECT_EQ(s.partial_successes, 1u);
  EXPECT_EQ(s.rejected_points, 2u);
  EXPECT_EQ(s.exports_ok, 2u);
  EXPECT_EQ(transport_->calls().size(), 2u);
  EXPECT_EQ(Logs().at(0), "partial success: 2 data points rejected: x (not retried; logged once)");
  EXPECT_EQ(out_->ReportLines().at(1),
            "otlp: 1 partial successes, 2 data points rejected by the endpoint");
}

TEST_F(OtlpOutputTest, FullQueueDropsOldestWithExactCount) {
  settings_.backoff_initial = seconds(3600);  // no retry during the test
  settings_.backoff_max = seconds(3600);
  Make();
  transport_->Script({{503}}, {200});
  ASSERT_TRUE(out_->Start(collector_).has_value());
  NextInterval();
  ASSERT_TRUE(transport_->WaitForCalls(1));
  ASSERT_TRUE(Eventually([&] { return out_->stats().exports_retried == 1; }));
  const uint64_t one = out_->stats().queue_bytes;  // every batch has the same size here
  ASSERT_GT(one, 0u);
  out_->Stop(clock_.Now());  // not Started again: measure only the size
  // A second reporter with room for exactly 3 batches.
  settings_.queue_bytes = one * 3 + one / 2;
  Make();
  transport_->Script({{503}}, {200});
  ASSERT_TRUE(out_->Start(collector_).has_value());
  for (int i = 0; i < 10; ++i) NextInterval();
  ASSERT_TRUE(Eventually([&] { return out_->stats().batches == 10; }));
  OtlpStats s = out_->stats();
  EXPECT_EQ(s.dropped_batches, 7u);
  EXPECT_EQ(s.queue_batches, 3u);
  EXPECT_EQ(s.queue_bytes, one * 3);
  // Stop: one immediate attempt at the backlog (the backoff is set aside), all 3 + the last
  // collection (which dropped one more) go out oldest first.
  out_->Stop(clock_.Now() + seconds(5));
  s = out_->stats();
  EXPECT_EQ(s.dropped_batches, 8u);
  EXPECT_EQ(s.exports_ok, 3u);
  EXPECT_EQ(s.unsent_at_stop, 0u);
  const auto calls = transport_->calls();
  ASSERT_EQ(calls.size(), 4u);  // the 503 and three successes
  uint64_t prev = 0;
  for (size_t i = 1; i < calls.size(); ++i) {
    const uint64_t t = DecodeRequest(calls[i].body, false).Find("volley_otlp_queue_bytes")->time;
    EXPECT_GT(t, prev);
    prev = t;
  }
  bool logged = false;
  for (const auto& l : Logs()) logged = logged || l.find("export queue full") != std::string::npos;
  EXPECT_TRUE(logged);
}

TEST_F(OtlpOutputTest, HangingExporterDoesNotDelayCollectionAndStopMeetsDeadline) {
  Make();
  transport_->Script({}, {0});  // every request hangs
  ASSERT_TRUE(out_->Start(collector_).has_value());
  NextInterval();
  ASSERT_TRUE(transport_->WaitForHang());
  // The collection thread keeps its interval while the exporter is stuck.
  for (int i = 0; i < 5; ++i) NextInterval();
  EXPECT_EQ(out_->collections(), 6u);
  EXPECT_EQ(out_->stats().queue_batches, 6u);
  // Stop with a deadline 3 s ahead: it waits for the deadline on the fake clock, then
  // cancels the hanging request and joins.
  const Nanos deadline = clock_.Now() + seconds(3);
  auto stopped = std::async(std::launch::async, [&] { out_->Stop(deadline); });
  EXPECT_EQ(stopped.wait_for(milliseconds(50)), std::future_status::timeout);
  clock_.Set(deadline);
  ASSERT_EQ(stopped.wait_for(seconds(20)), std::future_status::ready);
  EXPECT_GE(transport_->cancels(), 1);
  const OtlpStats s = out_->stats();
  EXPECT_EQ(s.unsent_at_stop, 7u);  // 6 intervals + the last collection
  EXPECT_EQ(s.exports_ok, 0u);
  EXPECT_NE(out_->ReportLines()[0].find("7 unsent at stop"), std::string::npos);
}

TEST_F(OtlpOutputTest, RequestTimeoutIsCutToTheDeadlineWhenFlushing) {
  settings_.timeout = seconds(10);
  Make();
  ASSERT_TRUE(out_->Start(collector_).has_value());
  NextInterval();
  ASSERT_TRUE(transport_->WaitForCalls(1));
  out_->Stop(clock_.Now() + seconds(2));  // the last batch is sent while flushing
  const auto calls = transport_->calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].timeout, seconds(10));
  EXPECT_EQ(calls[1].timeout, seconds(2));
  EXPECT_EQ(out_->stats().exports_ok, 2u);
}

TEST_F(OtlpOutputTest, LifecycleIsIdempotent) {
  Make();
  out_->Stop(clock_.Now());  // before Start: nothing
  ASSERT_TRUE(out_->Start(collector_).has_value());
  ASSERT_TRUE(out_->Start(collector_).has_value());  // no second thread
  out_->Stop(clock_.Now() + seconds(1));
  out_->Stop(clock_.Now() + seconds(1));
  EXPECT_EQ(out_->collections(), 1u);  // the last collection only
  EXPECT_EQ(transport_->calls().size(), 1u);
  out_.reset();
  Make();  // destroyed without Stop: joins its threads
  ASSERT_TRUE(out_->Start(collector_).has_value());
  out_.reset();
}

TEST_F(OtlpOutputTest, GzipBodies) {
  settings_.gzip = true;
  Make();
  ASSERT_TRUE(out_->Start(collector_).has_value());
  Record(3, 100);
  out_->Stop(clock_.Now() + seconds(5));
  const auto calls = transport_->calls();
  ASSERT_EQ(calls.size(), 1u);
  ASSERT_GE(calls[0].body.size(), 2u);
  EXPECT_EQ(calls[0].body.substr(0, 2), "\x1f\x8b");
  EXPECT_EQ(DecodeRequest(calls[0].body, true).Find("volley_requests_total")->value, 3.0);
}

TEST_F(OtlpOutputTest, BadPatternIsAnError) {
  settings_.include = {"(x"};
  auto out =
      OtlpOutput::CreateWithTransport(settings_, ctx_, std::make_unique<FakeTransport>(clock_));
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace volley::output
