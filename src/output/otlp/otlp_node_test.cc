// The independent decoder: test/otlp_receiver/receiver.js decodes what volley sends with
// the protobuf code the OpenTelemetry JavaScript project generated
// (@opentelemetry/otlp-transformer 0.217.0) and writes what it saw as JSON; its totals must
// match the Snapshot volley exported (counters exact, histogram counts and sums exact).
// Skipped when Node.js or the receiver's node_modules are missing.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "fakes/subprocess.h"
#include "volley/output/otlp_output.h"

namespace volley::output {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
namespace vt = volley::testing;

constexpr int64_t kWallStart = 1'750'000'000'000'000'000;

std::string FindNode() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    const size_t colon = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, colon - start) + "/node";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = colon + 1;
  }
  return "";
}

// A snapshot with every metric type, large counters and histograms spanning the bounds.
metrics::Snapshot KnownSnapshot() {
  metrics::Snapshot s;
  s.Put({"requests_total"}, metrics::Counter{123456789});
  s.Put({"requests_status_codes_total", {{"status_code", "200"}}}, metrics::Counter{120000000});
  s.Put({"requests_status_codes_total", {{"status_code", "503"}}}, metrics::Counter{3456789});
  s.Put({"data_received_bytes_total"}, metrics::Counter{9007199254740991.0});  // 2^53 - 1
  metrics::Gauge g;
  g.Set(42);
  g.Set(17);
  s.Put({"concurrent_requests"}, g);
  s.Put({"checks_total"}, metrics::Rate{.nonzero = 999, .total = 1000});
  metrics::Histogram d;
  for (uint64_t us = 1; us < 90'000'000; us = us * 5 / 4 + 3) d.RecordUnits(us);
  for (int i = 0; i < 100000; ++i) d.RecordUnits(2000 + static_cast<uint64_t>(i % 777));
  s.Put({"request_duration_seconds"}, d);
  metrics::Histogram w;
  for (int i = 0; i < 5000; ++i) w.Record(0.0001 * i + 0.00003);  // the double path
  s.Put({"request_waiting_seconds", {{"scenario", "login"}}}, w);
  return s;
}

class OtlpNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = VOLLEY_OTLP_RECEIVER_DIR;
    if (!std::filesystem::exists(dir_ + "/node_modules/@opentelemetry/otlp-transformer")) {
      GTEST_SKIP() << "the independent OTLP decoder is not installed: run `(cd " << dir_
                   << " && npm ci)` (scripts/dev.sh test does)";
    }
    node_ = FindNode();
    if (node_.empty()) GTEST_SKIP() << "node is not in PATH: install Node.js (npm) to run this";
  }

  std::string dir_;
  std::string node_;
};

TEST_F(OtlpNodeTest, IndependentDecoderSeesExactTotals) {
  vt::TempDir tmp;
  ASSERT_TRUE(tmp.ok());
  const std::string out_file = tmp.File("totals.json");
  std::string error;
  auto rx = vt::Subprocess::Spawn({node_, dir_ + "/receiver.js", "--out", out_file}, {}, &error);
  ASSERT_NE(rx, nullptr) << error;
  ASSERT_TRUE(vt::PollUntil([&] { return rx->Stdout().find("listening ") != std::string::npos; },
                            milliseconds(20000)))
      << rx->Diagnostics();
  const int port = std::stoi(rx->Stdout().substr(rx->Stdout().find("listening ") + 10));

  const metrics::Snapshot known = KnownSnapshot();
  FakeClock clock;
  metrics::Collector collector(clock.Now());
  collector.AddDelta(known);
  collector.Tick(clock.Now());
  OutputContext ctx;
  ctx.collector_start = clock.Now();
  ctx.wall_start_unix_nanos = kWallStart;
  ctx.run_id = "run-7";
  ctx.node_id = "node-a";
  ctx.region = "eu-west";
  ctx.clock = &clock;
  auto out = OtlpOutput::Create("http://127.0.0.1:" + std::to_string(port),
                                {{"compression", "gzip"}, {"label", "team=perf"}},
                                {{"OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=ci"}}, ctx);
  ASSERT_TRUE(out.has_value()) << out.error().message;
  ASSERT_TRUE((*out)->Start(collector).has_value());
  // Two intervals and the last collection: three batches of the same totals.
  for (int i = 1; i <= 2; ++i) {
    clock.Advance(seconds(10));
    ASSERT_TRUE(vt::PollUntil([&] { return (*out)->stats().exports_ok >= uint64_t(i); },
                              milliseconds(20000)));
  }
  (*out)->Stop(clock.Now() + seconds(10));
  const OtlpStats stats = (*out)->stats();
  ASSERT_EQ(stats.exports_ok, 3u) << (*out)->ReportLines()[0];

  nlohmann::json j;
  ASSERT_TRUE(vt::PollUntil(
      [&] {
        j = nlohmann::json::parse(vt::ReadFile(out_file), nullptr, false);
        return !j.is_discarded() && j["requests"].get<int>() >= 3;
      },
      milliseconds(20000)))
      << rx->Diagnostics();
  rx->Signal(SIGTERM);
  EXPECT_EQ(j["rejected"].get<int>(), 0) << j["errors"].dump();
  EXPECT_EQ(j["duplicates"].get<int>(), 0);
  EXPECT_EQ(j["contentEncoding"], "gzip");
  EXPECT_EQ(j["contentType"], "application/x-protobuf");
  EXPECT_EQ(j["resource"]["service.name"], "volley");
  EXPECT_EQ(j["resource"]["service.instance.id"], "node-a");
  EXPECT_EQ(j["resource"]["deployment.environment"], "ci");
  EXPECT_EQ(j["scope"], "volley");
  const auto& series = j["series"];
  // The receiver's series key: the name and the sorted "k=v" attributes.
  auto at = [&](const std::string& name, const std::string& own = "") -> const nlohmann::json& {
    std::vector<std::string> kv = {"node_id=node-a", "region=eu-west", "run_id=run-7", "team=perf"};
    if (!own.empty()) kv.push_back(own);
    std::sort(kv.begin(), kv.end());
    std::string key = name + "{";
    for (size_t i = 0; i < kv.size(); ++i) key += (i ? "," : "") + kv[i];
    key += "}";
    static const nlohmann::json kMissing;
    if (!series.contains(key)) {
      ADD_FAILURE() << "missing " << key << " in " << series.dump();
      return kMissing;
    }
    return series[key];
  };
  // Counters: exact, cumulative, monotonic, fixed start = the run start, three points.
  EXPECT_EQ(at("volley_requests_total")["value"].get<double>(), 123456789.0);
  EXPECT_EQ(at("volley_requests_total")["monotonic"], true);
  EXPECT_EQ(at("volley_requests_total")["temporality"].get<int>(), 2);
  EXPECT_EQ(at("volley_requests_total")["start"], std::to_string(kWallStart));
  EXPECT_EQ(at("volley_requests_total")["points"].get<int>(), 3);
  EXPECT_EQ(at("volley_requests_status_codes_total", "status_code=503")["value"].get<double>(),
            3456789.0);
  EXPECT_EQ(at("volley_requests_status_codes_total", "status_code=200")["value"].get<double>(),
            120000000.0);
  EXPECT_EQ(at("volley_data_received_bytes_total")["value"].get<double>(), 9007199254740991.0);
  EXPECT_EQ(at("volley_concurrent_requests")["kind"], "gauge");
  EXPECT_EQ(at("volley_concurrent_requests")["value"].get<double>(), 17.0);
  EXPECT_EQ(at("volley_checks_total")["value"].get<double>(), 1000.0);
  EXPECT_EQ(at("volley_checks_nonzero_total")["value"].get<double>(), 999.0);
  // Histograms: count, sum, min and max exact; buckets add up to count.
  const metrics::Histogram& d = *known.FindTrend("request_duration_seconds");
  const auto& jd = at("volley_request_duration_seconds");
  EXPECT_EQ(jd["count"], std::to_string(d.count()));
  EXPECT_EQ(jd["bucketTotal"], std::to_string(d.count()));
  EXPECT_EQ(jd["sum"].get<double>(), d.sum());
  EXPECT_EQ(jd["min"].get<double>(), d.min());
  EXPECT_EQ(jd["max"].get<double>(), d.max());
  EXPECT_EQ(jd["bounds"].size(), 16u);
  const metrics::Histogram& w =
      *known.FindTrend("request_waiting_seconds", {{"scenario", "login"}});
  const auto& jw = at("volley_request_waiting_seconds", "scenario=login");
  EXPECT_EQ(jw["count"], "5000");
  EXPECT_EQ(jw["bucketTotal"], "5000");
  EXPECT_EQ(jw["sum"].get<double>(), w.sum());
  // Self-metrics travel too.
  EXPECT_EQ(at("volley_otlp_dropped_batches_total")["value"].get<double>(), 0.0);
}

}  // namespace
}  // namespace volley::output
