// An independent decode: protoc's own parser prints what EncodeMetricSet produced, so the
// wire bytes (field numbers, types, packing) are checked against the .proto, not against
// our own decoder.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "volley/wire/k6_metrics.h"

namespace volley::wire::k6 {
namespace {

bool HaveProtoc() { return std::system("protoc --version >/dev/null 2>&1") == 0; }

// Runs protoc --decode over `bytes`; returns its text output (empty on failure).
std::string ProtocDecode(const std::string& bytes) {
  char path[] = "/tmp/k6_protoc_test_XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return "";
  close(fd);
  std::ofstream(path, std::ios::binary) << bytes;
  const std::string cmd = std::string("protoc --decode=metrics.MetricSet -I ") +
                          VOLLEY_K6_PROTO_DIR + " -I /usr/include metrics.proto < " + path;
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    if (pclose(p) != 0) out.clear();
  }
  unlink(path);
  return out;
}

TEST(K6ProtocTest, ProtocDecodesWhatWeEncode) {
  if (!HaveProtoc()) GTEST_SKIP() << "protoc is not installed";
  MetricSetData d;
  d.test_run_id = "run-42";
  d.aggregation_period_seconds = 3;
  metrics::Histogram h(1.0);
  for (double v : {7.0, 8.0, 9.0, 11.0, 12.0, 11.5, 10.5}) h.Record(v);
  d.series.push_back(
      {"http_req_duration", metrics::MetricType::kTrend, {{"method", "GET"}}, {{1700000001, h}}});
  d.series.push_back(
      {"http_reqs", metrics::MetricType::kCounter, {}, {{1700000001, metrics::Counter{17}}}});
  d.series.push_back(
      {"checks", metrics::MetricType::kRate, {}, {{1700000001, metrics::Rate{2, 5}}}});
  metrics::Gauge g;
  g.Set(3);
  g.Set(9);
  d.series.push_back({"vus", metrics::MetricType::kGauge, {}, {{1700000001, g}}});

  // A body as the push sends it, decompressed as a receiver does.
  auto raw = SnappyUncompress(SnappyCompress(EncodeMetricSet(d)), 1 << 20);
  ASSERT_TRUE(raw);
  const std::string text = ProtocDecode(*raw);
  ASSERT_FALSE(text.empty()) << "protoc failed to decode the message";
  for (const char* expected : {"test_run_id: \"run-42\"",
                               "aggregation_period: 3",
                               "name: \"http_req_duration\"",
                               "type: METRIC_TYPE_TREND",
                               "name: \"method\"",
                               "value: \"GET\"",
                               "seconds: 1700000001",
                               "counters: 1",
                               "counters: 2",
                               "spans {\n          offset: 7\n          length: 3\n        }",
                               "spans {\n          offset: 1\n          length: 2\n        }",
                               "sum: 69",
                               "count: 7",
                               "min_value: 7",
                               "max_value: 12",
                               "min_resolution: 1",
                               "type: METRIC_TYPE_COUNTER",
                               "value: 17",
                               "type: METRIC_TYPE_RATE",
                               "nonzero_count: 2",
                               "total_count: 5",
                               "type: METRIC_TYPE_GAUGE",
                               "last: 9",
                               "count: 2",
                               "min: 3",
                               "max: 9",
                               "avg: 6"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing: " << expected << "\n" << text;
  }
}

}  // namespace
}  // namespace volley::wire::k6
