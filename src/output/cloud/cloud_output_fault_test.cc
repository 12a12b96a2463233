// The cloud output against a loopback ingest that fails on purpose: 5xx for a while, 429
// with Retry-After, nothing listening, slow answers, 403 code 4, other 4xx, a backlog too
// small. After recovery the ingest holds exactly what was fed, nothing twice; what had to
// be dropped is counted exactly.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>

#include "fakes/cloud_test_util.h"
#include "fakes/fake_ingest.h"
#include "volley/output/cloud_output.h"

namespace volley::output {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Eventually;
using testing::ExpectSameTotals;
using testing::FakeIngest;
using testing::Fast;
using testing::In;
using testing::IngestAnswer;
using testing::kSeriesPerInterval;
using testing::PastRun;

struct Logged {
  std::mutex mu;
  std::vector<std::string> lines;
  CloudOutput::LogFn Fn() {
    return [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(mu);
      lines.push_back(line);
    };
  }
  size_t Count(const std::string& needle) {
    std::lock_guard<std::mutex> lock(mu);
    size_t n = 0;
    for (const auto& l : lines) n += l.find(needle) != std::string::npos;
    return n;
  }
};

std::unique_ptr<CloudOutput> Make(const std::string& url, const testing::KV& options,
                                  const PastRun& run, Logged* logged = nullptr) {
  return testing::MakeOutput(url, options, run, {}, logged ? logged->Fn() : nullptr);
}

// Every value fed was either delivered once or counted as dropped.
void ExpectAccounted(const CloudStats& s, uint64_t fed_values, const FakeIngest& ingest) {
  EXPECT_EQ(s.samples_sent + s.samples_dropped, fed_values);
  EXPECT_EQ(ingest.distinct_values(), s.samples_sent);
  EXPECT_EQ(ingest.values_stored(), s.samples_sent);  // nothing stored twice
}

TEST(CloudFaults, ServerErrorsForAWhileThenEverythingArrivesOnce) {
  FakeIngest ingest([](int n) { return IngestAnswer{.status = n <= 5 ? 503 : 200}; });
  ASSERT_TRUE(ingest.Start());
  PastRun run;
  Logged logged;
  auto out = Make(ingest.url(), Fast({{"retries", "1"}}), run, &logged);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  run.Feed(6);
  ASSERT_TRUE(
      ingest.WaitFor([](const FakeIngest& f) { return f.requests().size() > 5; }, seconds(20)));
  run.Feed(4);
  out->Stop(In(seconds(30)));

  ExpectSameTotals(run.collector.Cumulative(), ingest.Totals());
  const CloudStats s = out->stats();
  ExpectAccounted(s, 10 * kSeriesPerInterval, ingest);
  EXPECT_EQ(s.samples_dropped, 0u);
  EXPECT_EQ(s.attempts, ingest.requests().size());
  EXPECT_EQ(s.attempts - s.batches_sent, 5u);  // the five 503s
  EXPECT_GE(s.retries, 5u);
  EXPECT_GE(s.backlogged, 1u);  // the first request failed 1 + retries times
  EXPECT_EQ(ingest.duplicate_requests(), 0u);
  EXPECT_EQ(logged.Count("HTTP 503"), 1u);  // logged once, then only counted
}

TEST(CloudFaults, RetryAfterIsHonoured) {
  FakeIngest ingest([](int n) {
    return n == 1 ? IngestAnswer{.status = 429, .retry_after = "1"} : IngestAnswer{};
  });
  ASSERT_TRUE(ingest.Start());
  PastRun run;
  run.Feed(3);
  auto out = Make(ingest.url(), Fast(), run);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  ASSERT_TRUE(
      ingest.WaitFor([](const FakeIngest& f) { return f.requests().size() >= 2; }, seconds(20)));
  out->Stop(In(seconds(30)));
  const auto requests = ingest.requests();
  ASSERT_GE(requests.size(), 2u);
  // The retry (same key) came no sooner than the server asked, although the backoff alone
  // would have retried after 10 ms.
  EXPECT_EQ(requests[1].headers.at("K6-Idempotency-Key"),
            requests[0].headers.at("K6-Idempotency-Key"));
  EXPECT_GE(requests[1].arrival - requests[0].arrival, seconds(1));
  ExpectSameTotals(run.collector.Cumulative(), ingest.Totals());
  ExpectAccounted(out->stats(), 3 * kSeriesPerInterval, ingest);
}

// A port with nothing listening: bind a socket, read its port, close it.
uint16_t FreePort() {
  FakeIngest probe;
  if (!probe.Start()) return 0;
  const uint16_t port = probe.port();
  probe.Stop();
  return port;
}

TEST(CloudFaults, ConnectionRefusedUntilTheServiceStarts) {
  const uint16_t port = FreePort();
  ASSERT_NE(port, 0);
  PastRun run;
  auto out = Make("http://127.0.0.1:" + std::to_string(port), Fast(), run);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  run.Feed(5);
  // Several refused attempts; the data waits in the backlog.
  ASSERT_TRUE(Eventually([&] { return out->stats().backlogged >= 1; }));
  EXPECT_EQ(out->stats().batches_sent, 0u);
  FakeIngest ingest;
  ASSERT_TRUE(ingest.Start(port));
  run.Feed(2);
  out->Stop(In(seconds(30)));
  ExpectSameTotals(run.collector.Cumulative(), ingest.Totals());
  const CloudStats s = out->stats();
  ExpectAccounted(s, 7 * kSeriesPerInterval, ingest);
  EXPECT_EQ(s.samples_dropped, 0u);
  EXPECT_GE(s.retries, 3u);
  out.reset();  // closes its connection before the ingest stops
}

TEST(CloudFaults, SlowAnswersBeyondTheTimeoutAreRetriedAndNotCountedTwice) {
  // The first two requests are stored but answered after 30 s; the client gives up after
  // 200 ms and retries with the same key, which the ingest recognises.
  FakeIngest ingest([](int n) {
    return n <= 2 ? IngestAnswer{.status = 200, .delay = seconds(30)} : IngestAnswer{};
  });
  ASSERT_TRUE(ingest.Start());
  PastRun run;
  auto out = Make(ingest.url(), Fast({{"timeout", "200ms"}}), run);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  run.Feed(4);
  ASSERT_TRUE(
      ingest.WaitFor([](const FakeIngest& f) { return f.duplicate_requests() >= 1; }, seconds(20)));
  run.Feed(2);
  out->Stop(In(seconds(30)));
  ingest.Release();
  const CloudStats s = out->stats();
  EXPECT_GE(s.retries, 1u);
  EXPECT_GE(ingest.duplicate_requests(), 1u);
  ExpectSameTotals(run.collector.Cumulative(), ingest.Totals());
  EXPECT_EQ(ingest.values_stored(), 6u * kSeriesPerInterval);  // nothing twice
  EXPECT_EQ(s.samples_dropped, 0u);
}

TEST(CloudFaults, Forbidden403Code4StopsTheOutputAndTheTest) {
  FakeIngest ingest([](int n) {
    return n >= 2 ? IngestAnswer{.status = 403,
                                 .body = R"({"error":{"code":4,"message":"limit reached"}})"}
                  : IngestAnswer{};
  });
  ASSERT_TRUE(ingest.Start());
  PastRun run;
  Logged logged;
  auto out =
      Make(ingest.url(), Fast({{"stopOnError", "true"}, {"maxSeriesInBatch", "2"}}), run, &logged);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  run.Feed(3);
  ASSERT_TRUE(Eventually([&] { return out->WantsAbort(); }));
  const size_t requests_at_refusal = ingest.requests().size();
  run.Feed(3);
  out->Stop(In(seconds(30)));
  const CloudStats s = out->stats();
  EXPECT_TRUE(s.refused);
  EXPECT_EQ(ingest.requests().size(), requests_at_refusal);  // nothing sent after it
  EXPECT_EQ(ingest.requests().size(), 2u);
  ExpectAccounted(s, 6 * kSeriesPerInterval, ingest);
  EXPECT_EQ(s.samples_sent, 2u * 3);  // the first batch: 2 series in 3 buckets
  EXPECT_EQ(s.dropped_by_reason.at("refused by the service").second, s.samples_dropped);
  EXPECT_EQ(logged.Count("accepts no more metrics"), 1u);
  EXPECT_EQ(logged.Count("stopOnError"), 1u);
  const auto lines = out->ReportLines();
  bool found = false;
  for (const auto& l : lines) found |= l.find("refused further metrics") != std::string::npos;
  EXPECT_TRUE(found);
}

TEST(CloudFaults, Forbidden403WithoutStopOnErrorDoesNotAbortTheTest) {
  FakeIngest ingest(
      [](int) { return IngestAnswer{.status = 403, .body = R"({"error":{"code":4}})"}; });
  ASSERT_TRUE(ingest.Start());
  PastRun run;
  run.Feed(2);
  auto out = Make(ingest.url(), Fast(), run);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  out->Stop(In(seconds(30)));
  EXPECT_TRUE(out->stats().refused);
  EXPECT_FALSE(out->WantsAbort());
  EXPECT_EQ(out->stats().samples_dropped, 2u * kSeriesPerInterval);
}

TEST(CloudFaults, OtherClientErrorsDropTheBatchCountedAndLoggedOnce) {
  FakeIngest ingest([](int n) {
    return n <= 2 ? IngestAnswer{.status = 400, .body = R"({"error":{"code":1,"message":"bad"}})"}
                  : IngestAnswer{};
  });
  ASSERT_TRUE(ingest.Start());
  PastRun run;
  run.Feed(2);
  Logged logged;
  auto out = Make(ingest.url(), Fast({{"maxSeriesInBatch", "1"}}), run, &logged);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  out->Stop(In(seconds(30)));
  const CloudStats s = out->stats();
  EXPECT_EQ(s.dropped_by_reason.at("rejected (4xx)"), std::make_pair(uint64_t{2}, uint64_t{4}));
  EXPECT_EQ(s.retries, 0u);  // a 400 is not retried
  ExpectAccounted(s, 2 * kSeriesPerInterval, ingest);
  EXPECT_EQ(logged.Count("HTTP 400: bad"), 1u);
}

TEST(CloudFaults, ATinyBacklogDropsTheOldestAndCountsExactly) {
  // The service fails every request; the backlog keeps only the newest request.
  FakeIngest ingest([](int) { return IngestAnswer{.status = 503}; });
  ASSERT_TRUE(ingest.Start());
  PastRun run;
  run.Feed(4);  // read in one round: 5 series x 4 buckets, one series per batch
  auto out = Make(ingest.url(), Fast({{"maxBacklog", "1"}, {"maxSeriesInBatch", "1"}}), run);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  ASSERT_TRUE(Eventually([&] { return out->stats().attempts >= 3; }));
  out->Stop(In(milliseconds(300)));
  const CloudStats s = out->stats();
  EXPECT_EQ(ingest.stored_requests(), 0u);
  EXPECT_EQ(s.samples_sent, 0u);
  // The five batches arrive together: the four oldest are dropped at once, the newest is
  // retried until the stop deadline and dropped then.
  EXPECT_EQ(s.dropped_by_reason.at("backlog full"), std::make_pair(uint64_t{4}, uint64_t{16}));
  EXPECT_EQ(s.dropped_by_reason.at("unsent at the stop deadline"),
            std::make_pair(uint64_t{1}, uint64_t{4}));
  EXPECT_EQ(s.samples_dropped, 4u * kSeriesPerInterval);
  EXPECT_EQ(s.batches_dropped, 5u);
  EXPECT_GE(s.backlogged, 1u);
  std::vector<std::string> dropped;
  for (const auto& l : out->ReportLines()) {
    if (l.find("DROPPED") != std::string::npos) dropped.push_back(l);
  }
  ASSERT_EQ(dropped.size(), 2u);
  EXPECT_EQ(dropped[0], "cloud: DROPPED 4 batches (16 samples): backlog full");
  EXPECT_EQ(dropped[1], "cloud: DROPPED 1 batches (4 samples): unsent at the stop deadline");
}

TEST(CloudFaults, ABacklogTooSmallForAnOutageLosesOnlyWhatItCounts) {
  // Down for the first 30 requests while data keeps coming, then up: what arrives plus
  // what was counted as dropped is exactly what was fed.
  FakeIngest ingest([](int n) { return IngestAnswer{.status = n <= 30 ? 503 : 200}; });
  ASSERT_TRUE(ingest.Start());
  PastRun run;
  auto out = Make(ingest.url(), Fast({{"maxBacklog", "600"}, {"maxSeriesInBatch", "1"}}), run);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  for (int i = 0; i < 10; ++i) {
    run.Feed(1);
    const size_t seen = ingest.requests().size();
    ASSERT_TRUE(ingest.WaitFor([&](const FakeIngest& f) { return f.requests().size() > seen; },
                               seconds(20)));
  }
  out->Stop(In(seconds(30)));
  const CloudStats s = out->stats();
  ExpectAccounted(s, 10 * kSeriesPerInterval, ingest);
  EXPECT_GT(s.samples_dropped, 0u);
  EXPECT_GT(s.samples_sent, 0u);
  EXPECT_EQ(s.dropped_by_reason.at("backlog full").second, s.samples_dropped);
  EXPECT_EQ(ingest.duplicate_requests(), 0u);
}

TEST(CloudFaults, TheStopDeadlineCutsHangingRequests) {
  // Every answer hangs for a minute, the request timeout is a minute too: only the
  // deadline can end Stop().
  FakeIngest ingest([](int) { return IngestAnswer{.status = 200, .delay = seconds(60)}; });
  ASSERT_TRUE(ingest.Start());
  PastRun run;
  run.Feed(3);
  auto out = Make(ingest.url(), Fast({{"timeout", "1m"}}), run);
  ASSERT_NE(out, nullptr);
  ASSERT_TRUE(out->Start(run.collector));
  ASSERT_TRUE(
      ingest.WaitFor([](const FakeIngest& f) { return !f.requests().empty(); }, seconds(20)));
  const Nanos deadline = In(milliseconds(300));
  out->Stop(deadline);
  // Returned long before the request timeout (a minute), so because of the deadline.
  EXPECT_LT(MonotonicNow(), deadline + seconds(20));
  ingest.Release();
  const CloudStats s = out->stats();
  EXPECT_EQ(s.samples_sent, 0u);
  EXPECT_EQ(s.samples_dropped, 3u * kSeriesPerInterval);
  EXPECT_EQ(s.dropped_by_reason.at("unsent at the stop deadline").second, s.samples_dropped);
}

}  // namespace
}  // namespace volley::output
