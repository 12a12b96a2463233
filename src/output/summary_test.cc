#include "volley/output/summary.h"

#include <gtest/gtest.h>

#include "volley/metrics/names.h"
#include "volley/output/progress.h"

namespace volley::output {
namespace {

namespace names = metrics::names;
using metrics::SeriesKey;

metrics::Snapshot MakeSnapshot() {
  metrics::Snapshot snap;
  snap.Put(SeriesKey(names::kRequests), metrics::Counter{1000});
  snap.Put(SeriesKey(names::kStatusCodes, {{names::kStatusLabel, "200"}}), metrics::Counter{900});
  snap.Put(SeriesKey(names::kStatusCodes, {{names::kStatusLabel, "503"}}), metrics::Counter{95});
  snap.Put(SeriesKey(names::kErrors, {{names::kCategoryLabel, "server_error"}}),
           metrics::Counter{95});
  snap.Put(SeriesKey(names::kErrors, {{names::kCategoryLabel, "timeout_error"}}),
           metrics::Counter{5});
  snap.Put(SeriesKey(names::kDroppedIterations), metrics::Counter{7});
  metrics::Histogram h;
  for (int i = 1; i <= 1000; ++i) h.Record(i * 1e-3);  // 1 ms .. 1 s
  snap.Put(SeriesKey(names::kDuration), h);
  return snap;
}

TEST(Summary, CountsStatusCodesErrorsAndPercentilesFromTheSnapshot) {
  RunFacts facts;
  facts.elapsed = std::chrono::seconds(4);
  Summary s = Summarize(MakeSnapshot(), facts);
  EXPECT_EQ(s.requests_total, 1000u);
  EXPECT_DOUBLE_EQ(s.rps, 250);
  EXPECT_EQ(s.status_codes.at("200"), 900u);
  EXPECT_EQ(s.status_codes.at("503"), 95u);
  EXPECT_EQ(s.errors.at("server_error"), 95u);
  EXPECT_EQ(s.errors.at("timeout_error"), 5u);
  EXPECT_EQ(s.errors.at("network_error"), 0u);  // every category is listed
  EXPECT_EQ(s.errors_total, 100u);
  EXPECT_EQ(s.dropped_iterations, 7u);
  EXPECT_EQ(s.latency.count, 1000u);
  EXPECT_NEAR(s.latency.p50, 0.500, 0.500 / 128);
  EXPECT_NEAR(s.latency.p99, 0.990, 0.990 / 128);
  EXPECT_NEAR(s.latency.p999, 0.999, 0.999 / 128);
  EXPECT_DOUBLE_EQ(s.latency.max, 1.0);
  EXPECT_FALSE(s.from_intended.has_value());
}

TEST(Summary, JsonHasTheDocumentedKeys) {
  RunFacts facts;
  facts.elapsed = std::chrono::seconds(2);
  auto j = ToJson(Summarize(MakeSnapshot(), facts));
  for (const char* key : {"requests_total", "rps", "duration_s", "status_codes", "errors",
                          "dropped_iterations", "latency_ms"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  for (const char* key : {"min", "mean", "p50", "p90", "p95", "p99", "p999", "max"}) {
    EXPECT_TRUE(j["latency_ms"].contains(key)) << key;
  }
  EXPECT_EQ(j["requests_total"], 1000);
  EXPECT_EQ(j["status_codes"]["503"], 95);
  EXPECT_DOUBLE_EQ(j["latency_ms"]["max"].get<double>(), 1000.0);
}

TEST(Summary, ReportMentionsTheFigures) {
  RunFacts facts;
  facts.elapsed = std::chrono::seconds(4);
  facts.target = "http://127.0.0.1:1/";
  std::string r = FormatReport(Summarize(MakeSnapshot(), facts));
  EXPECT_NE(r.find("1,000"), std::string::npos) << r;
  EXPECT_NE(r.find("503: 95 (9.5%)"), std::string::npos) << r;
  EXPECT_NE(r.find("timeout_error: 5"), std::string::npos) << r;
  EXPECT_NE(r.find("p99.9"), std::string::npos) << r;
}

TEST(Format, HumanUnits) {
  EXPECT_EQ(FormatCount(1234567), "1,234,567");
  EXPECT_EQ(FormatCount(12), "12");
  EXPECT_EQ(FormatLatency(0.0123), "12.3ms");
  EXPECT_EQ(FormatLatency(0.000845), "845µs");
  EXPECT_EQ(FormatLatency(1.5), "1.50s");
  EXPECT_EQ(FormatBytes(12'300'000), "12.3 MB");
}

}  // namespace
}  // namespace volley::output
