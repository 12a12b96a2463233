// The ingest service over loopback: pushes in both formats, summaries, idempotency,
// malformed bodies, auth, limits and restarts on the same database file.
#include "volley/ingest/server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "fakes/raw_http.h"

namespace volley::ingest {
namespace {

using metrics::Counter;
using metrics::Gauge;
using metrics::Histogram;
using metrics::MetricType;
using metrics::Rate;
using nlohmann::json;
using wire::k6::MetricSetData;

class IngestServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ingest_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Start();
  }
  void TearDown() override {
    server_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Start(IngestOptions options = {}) {
    server_.reset();
    store_.reset();
    auto store = Store::Open(dir_ + "/ingest.db");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    options.listen = "127.0.0.1:0";
    options.now_ms = [] { return int64_t{1700000000000}; };
    auto server = IngestServer::Start(options, *store_);
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    client_ = std::make_unique<fakes::LoopbackClient>(server_->port());
  }

  fakes::Reply PostV2(const std::string& run, const MetricSetData& d, fakes::HeaderMap h = {}) {
    return PostRaw("/v2/metrics/" + run, wire::k6::SnappyCompress(wire::k6::EncodeMetricSet(d)),
                   std::move(h));
  }
  fakes::Reply PostRaw(const std::string& path, const std::string& body, fakes::HeaderMap h = {},
                       const char* type = "application/x-protobuf") {
    if (path.find("/v2/") != std::string::npos && !h.count("Content-Encoding")) {
      h.emplace("Content-Encoding", "snappy");
    }
    if (!h.count("K6-Metrics-Protocol-Version")) h.emplace("K6-Metrics-Protocol-Version", "2.0");
    return client_->Post(path, h, body, type);
  }
  std::string Get(const std::string& path, int expected = 200) {
    auto r = client_->Get(path);
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, expected) << r->body;
    return r->body;
  }
  json Summary(const std::string& run) { return json::parse(Get("/v1/runs/" + run + "/summary")); }
  // The series of `summary` with this metric (and first of its label sets).
  static json Find(const json& summary, const std::string& metric) {
    for (const auto& s : summary["series"]) {
      if (s["metric"] == metric) return s;
    }
    return json();
  }
  // Asserts an error answer: status, JSON code and a message containing `text`.
  static void ExpectError(const fakes::Reply& r, int status, const std::string& text) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    auto j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r->body;
    EXPECT_EQ(j["error"]["code"], status);
    EXPECT_NE(j["error"]["message"].get<std::string>().find(text), std::string::npos) << r->body;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<IngestServer> server_;
  std::unique_ptr<fakes::LoopbackClient> client_;
};

// A run's worth of data: a counter, a rate, a gauge and a trend over three buckets, with
// the trend's local merge kept for comparison.
struct Pushed {
  MetricSetData data;
  Histogram merged{1e-6};
};

Pushed MakeRun(uint64_t seed) {
  Pushed p;
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> dist(9, 1);
  MetricSetData& d = p.data;
  d.aggregation_period_seconds = 3;
  d.series.push_back({"requests_total", MetricType::kCounter, {{"status_code", "200"}}, {}});
  d.series.push_back({"checks", MetricType::kRate, {}, {}});
  d.series.push_back({"concurrent_requests", MetricType::kGauge, {}, {}});
  d.series.push_back({"request_duration_seconds", MetricType::kTrend, {{"method", "GET"}}, {}});
  for (int b = 0; b < 3; ++b) {
    const int64_t t = 1700000000 + 3 * b;
    d.series[0].values.push_back({t, Counter{100.0 + b}});
    d.series[1].values.push_back({t, Rate{static_cast<uint64_t>(7 + b), 10}});
    Gauge g;
    g.Set(10.0 * (b + 1));
    g.Set(5.0 + b);
    d.series[2].values.push_back({t, g});
    Histogram h(1e-6);
    for (int i = 0; i < 1000; ++i) h.RecordUnits(static_cast<uint64_t>(dist(rng)));
    p.merged.Merge(h);
    d.series[3].values.push_back({t, std::move(h)});
  }
  return p;
}

TEST_F(IngestServerTest, V2PushSummaryEqualsWhatWasPushed) {
  const Pushed p = MakeRun(1);
  auto r = PostV2("run-1", p.data, {{"K6-Idempotency-Key", "0123456789abcdef"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(
      json::parse(r->body),
      json::parse(
          R"({"run":"run-1","series":4,"values":12,"merged":0,"duplicate":false,"repaired":0,"refused":0})"));
  const json s = Summary("run-1");
  EXPECT_EQ(Find(s, "requests_total")["total"], 303.0);
  EXPECT_EQ(Find(s, "requests_total")["labels"], json({{"status_code", "200"}}));
  EXPECT_EQ(Find(s, "checks")["nonzero"], 24);
  EXPECT_EQ(Find(s, "checks")["total"], 30);
  EXPECT_EQ(Find(s, "checks")["rate"], 0.8);
  const json g = Find(s, "concurrent_requests");
  EXPECT_EQ(g["last"], 7.0);  // the latest bucket's last Set
  EXPECT_EQ(g["min"], 5.0);
  EXPECT_EQ(g["max"], 30.0);
  const json t = Find(s, "request_duration_seconds");
  EXPECT_EQ(t["count"], 3000);
  EXPECT_EQ(t["points"], 3);
  EXPECT_EQ(t["min"], p.merged.min());
  EXPECT_EQ(t["max"], p.merged.max());
  EXPECT_DOUBLE_EQ(t["sum"].get<double>(), p.merged.sum());
  for (auto [name, q] :
       {std::pair{"p50", 50.0}, {"p90", 90.0}, {"p95", 95.0}, {"p99", 99.0}, {"p99.9", 99.9}}) {
    EXPECT_EQ(t[name], p.merged.Percentile(q)) << name;
  }
  // The time series endpoint lists each bucket.
  const json series = json::parse(Get("/v1/runs/run-1/series?metric=requests_total"));
  ASSERT_EQ(series["series"].size(), 1u);
  EXPECT_EQ(series["series"][0]["points"][1], json({{"time", 1700000003}, {"value", 101.0}}));
  const json runs = json::parse(Get("/v1/runs"));
  EXPECT_EQ(runs["runs"][0]["id"], "run-1");
  EXPECT_EQ(runs["runs"][0]["series"], 4);
  EXPECT_EQ(runs["runs"][0]["points"], 12);
  EXPECT_EQ(runs["runs"][0]["created_ms"], 1700000000000);
}

TEST_F(IngestServerTest, IdempotencyKeyMakesRetriesNoOpsWhileResentBucketsMerge) {
  const Pushed p = MakeRun(2);
  fakes::HeaderMap key{{"K6-Idempotency-Key", "aaaaaaaaaaaaaaaa"}};
  ASSERT_EQ(PostV2("r", p.data, key)->status, 200);
  auto again = PostV2("r", p.data, key);
  ASSERT_EQ(again->status, 200);
  EXPECT_EQ(json::parse(again->body)["duplicate"], true);
  EXPECT_EQ(Find(Summary("r"), "requests_total")["total"], 303.0);
  EXPECT_EQ(Find(Summary("r"), "request_duration_seconds")["count"], 3000);
  // The same key in another run is another request.
  ASSERT_EQ(PostV2("r2", p.data, key)->status, 200);
  EXPECT_EQ(Find(Summary("r2"), "requests_total")["total"], 303.0);
  // A re-sent bucket (late samples, new request) merges into the stored one.
  MetricSetData late;
  late.series.push_back({"requests_total",
                         MetricType::kCounter,
                         {{"status_code", "200"}},
                         {{1700000003, Counter{5}}}});
  late.series.push_back(
      {"request_duration_seconds", MetricType::kTrend, {{"method", "GET"}}, {{1700000003, [] {
                                                                                Histogram h(1e-6);
                                                                                h.RecordUnits(123);
                                                                                return h;
                                                                              }()}}});
  auto merged = PostV2("r", late, {{"K6-Idempotency-Key", "bbbbbbbbbbbbbbbb"}});
  ASSERT_EQ(merged->status, 200);
  EXPECT_EQ(json::parse(merged->body)["merged"], 2);
  const json s = Summary("r");
  EXPECT_EQ(Find(s, "requests_total")["total"], 308.0);
  EXPECT_EQ(Find(s, "request_duration_seconds")["count"], 3001);
  EXPECT_EQ(Find(s, "request_duration_seconds")["points"], 3);
  Histogram one(1e-6);
  one.RecordUnits(123);
  EXPECT_EQ(Find(s, "request_duration_seconds")["min"], std::min(p.merged.min(), one.min()));
}

TEST_F(IngestServerTest, V1PushIsStored) {
  const std::string body = wire::k6::EncodeV1({
      wire::k6::V1Point{"vus", 1700000000500000, MetricType::kGauge, {{"a", "b"}}, 999},
      wire::k6::V1Points{"http_req_li_all",
                         1700000001000000,
                         MetricType::kTrend,
                         {},
                         {{"http_req_duration", 12.5}, {"http_reqs", 1}}},
      wire::k6::V1Points{"http_req_li_all",
                         1700000001200000,
                         MetricType::kTrend,
                         {},
                         {{"http_req_duration", 20}, {"http_reqs", 1}}},
  });
  auto r = PostRaw("/v1/metrics/v1run", body, {}, "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json s = Summary("v1run");
  EXPECT_EQ(Find(s, "vus")["last"], 999.0);
  EXPECT_EQ(Find(s, "http_reqs")["total"], 2.0);  // a counter by k6's built-in table
  EXPECT_EQ(Find(s, "http_req_duration")["count"], 2);
  EXPECT_EQ(Find(s, "http_req_duration")["max"], 20.0);
  EXPECT_EQ(Find(s, "http_req_duration")["resolution"], 0.001);
}

TEST_F(IngestServerTest, MalformedRequestsAreRefusedAndChangeNothing) {
  ASSERT_EQ(PostV2("m", MakeRun(3).data)->status, 200);
  const std::string before = Get("/v1/runs/m/summary");
  const std::string runs_before = Get("/v1/runs");
  ExpectError(PostRaw("/v2/metrics/m", "garbage"), 400, "snappy: the body is corrupt");
  ExpectError(PostRaw("/v2/metrics/m", wire::k6::SnappyCompress("\x1a\x05\x0a\x03")), 400,
              "protobuf: the body is not a valid metrics.MetricSet");
  // A batch whose only series is invalid (a trend sent as counter samples) stores nothing.
  const std::string bytes("\x1a\x0f\x0a\x01x\x10\x04\x1a\x08\x12\x06\x0a\x04\x0a\x02\x08\x01", 17);
  ExpectError(PostRaw("/v2/metrics/m", wire::k6::SnappyCompress(bytes)), 400,
              "every series was refused: metrics[0] \"x\" time_series[0]: carries counter "
              "samples, but the metric is a trend");
  ExpectError(PostV2("m", MakeRun(4).data, {{"K6-Metrics-Protocol-Version", "3.0"}}), 400,
              "K6-Metrics-Protocol-Version \"3.0\" is not supported");
  ExpectError(PostV2("m", MakeRun(4).data, {{"Content-Encoding", "zstd"}}), 415,
              "snappy-compressed");
  ExpectError(PostRaw("/v1/metrics/m", "[{\"type\":", {}, "application/json"), 400,
              "v1: the body is not valid JSON");
  ExpectError(PostRaw("/v1/metrics/m", "[]", {}, "text/plain"), 415, "application/json");
  ExpectError(PostRaw("/v2/metrics/m!", "x"), 400, "run id must be");
  ExpectError(PostV2("m", MakeRun(4).data, {{"K6-Idempotency-Key", std::string(129, 'k')}}), 400,
              "K6-Idempotency-Key");
  // A stored metric's type cannot change, nor a trend's resolution: 409, nothing written.
  MetricSetData clash = MakeRun(5).data;
  clash.series[1].metric = "requests_total";
  clash.series[1].labels = {{"status_code", "500"}};
  ExpectError(PostV2("m", clash), 400, "sent as both counter and rate");
  MetricSetData stored_clash;
  stored_clash.series.push_back({"requests_total", MetricType::kCounter, {}, {{1, Counter{1}}}});
  stored_clash.series.push_back({"checks", MetricType::kCounter, {}, {{1, Counter{1}}}});
  ExpectError(PostV2("m", stored_clash), 409, "metric \"checks\" is stored as a rate in run m");
  MetricSetData res_clash;
  res_clash.series.push_back({"request_duration_seconds",
                              MetricType::kTrend,
                              {{"method", "GET"}},
                              {{1, Histogram(0.001)}}});
  ExpectError(PostV2("m", res_clash), 409, "is stored with histogram resolution");
  MetricSetData other_run = MakeRun(6).data;
  other_run.test_run_id = "not-m";
  ExpectError(PostV2("m", other_run), 400, "differs from the run in the URL");
  EXPECT_EQ(Get("/v1/runs/m/summary"), before);
  EXPECT_EQ(Get("/v1/runs"), runs_before);
  ExpectError(client_->Get("/v1/runs/nope/summary"), 404, "run \"nope\" is not stored");
  ExpectError(client_->Get("/nothing"), 404, "no such endpoint");
}

TEST_F(IngestServerTest, BodyLimitsGive413) {
  IngestOptions o;
  o.max_body = 1000;
  Start(o);
  ExpectError(PostRaw("/v1/metrics/big", std::string(1001, ' '), {}, "application/json"), 413,
              "over the limit of 1000 bytes");
  // A gzip body that inflates past the limit is cut off while it is read.
  fakes::LoopbackClient gz(server_->port());
  gz.set_compress(true);
  std::string big = "[" + std::string(5000, ' ') + "]";
  ExpectError(gz.Post("/v1/metrics/big", big, "application/json"), 413,
              "inflates to more than 1000");
  ExpectError(client_->Get("/v1/runs/big/summary"), 404, "not stored");
  // Compressed bodies elsewhere are refused before anything inflates them.
  ExpectError(gz.Post("/v1/runs", big, "application/json"), 415, "compressed bodies");
  // Within the limit, gzip works for v1 as k6 sends it.
  auto ok = gz.Post("/v1/metrics/big", "[" + std::string(500, ' ') + "]", "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST_F(IngestServerTest, TokenIsRequiredWhenConfigured) {
  IngestOptions o;
  o.token = "s3cret";
  Start(o);
  const MetricSetData d = MakeRun(7).data;
  ExpectError(PostV2("a", d), 401, "missing or wrong token");
  ExpectError(PostV2("a", d, {{"Authorization", "Token wrong"}}), 401, "missing or wrong token");
  ExpectError(client_->Get("/v1/runs"), 401, "missing or wrong token");
  EXPECT_EQ(PostV2("a", d, {{"Authorization", "Token s3cret"}})->status, 200);
  EXPECT_EQ(PostV2("b", d, {{"Authorization", "Bearer s3cret"}})->status, 200);
  client_->set_bearer_token_auth("s3cret");
  EXPECT_EQ(json::parse(Get("/v1/runs"))["runs"].size(), 2u);
}

TEST_F(IngestServerTest, DataSurvivesARestartOnTheSameFile) {
  const Pushed p = MakeRun(8);
  ASSERT_EQ(PostV2("keep", p.data, {{"K6-Idempotency-Key", "k1"}})->status, 200);
  const std::string before = Get("/v1/runs/keep/summary");
  Start();  // a new store and server on the same file
  EXPECT_EQ(Get("/v1/runs/keep/summary"), before);
  // The idempotency keys persist too.
  EXPECT_EQ(json::parse(PostV2("keep", p.data, {{"K6-Idempotency-Key", "k1"}})->body)["duplicate"],
            true);
  EXPECT_EQ(Get("/v1/runs/keep/summary"), before);
}

TEST_F(IngestServerTest, ConcurrentPushesAllCount) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      fakes::LoopbackClient c(server_->port());
      for (int i = 0; i < 10; ++i) {
        MetricSetData d;
        d.series.push_back({"n", MetricType::kCounter, {}, {{1700000000, Counter{1}}}});
        auto r = c.Post("/v2/metrics/c",
                        {{"Content-Encoding", "snappy"},
                         {"K6-Idempotency-Key", std::to_string(t) + "-" + std::to_string(i)}},
                        wire::k6::SnappyCompress(wire::k6::EncodeMetricSet(d)),
                        "application/x-protobuf");
        EXPECT_TRUE(r && r->status == 200);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(Find(Summary("c"), "n")["total"], 40.0);
}

// Issue 17: slow clients cost memory, never another client's service.
TEST_F(IngestServerTest, SlowAndIdleClientsNeverStallAPush) {
  IngestOptions o;
  o.http.header_timeout = std::chrono::seconds(2);
  o.http.idle_timeout = std::chrono::seconds(3);
  o.http.max_connections = 2000;
  o.http.max_connections_per_peer = 2000;
  Start(o);
  fakes::SlowAttackOptions a;
  a.header_timeout = std::chrono::seconds(2);
  a.idle_timeout = std::chrono::seconds(3);
  int pushes = 0;
  const auto report = fakes::RunSlowClientAttack(
      server_->port(),
      [&] {
        MetricSetData d;
        d.series.push_back({"n", MetricType::kCounter, {}, {{1700000000, Counter{1}}}});
        auto r = fakes::Fetch(server_->port(), "POST", "/v2/metrics/slow",
                              {"Content-Encoding: snappy", "Content-Type: application/x-protobuf"},
                              wire::k6::SnappyCompress(wire::k6::EncodeMetricSet(d)),
                              std::chrono::seconds(10));
        const bool ok = r && r->status == 200;
        pushes += ok ? 1 : 0;
        return ok;
      },
      a);
  std::printf("ingest %s\n", report.Describe().c_str());
  EXPECT_EQ(report.connected, 1000);
  EXPECT_EQ(report.slow_closed, 500);
  EXPECT_EQ(report.idle_closed, 500);
  EXPECT_EQ(report.early_closes, 0);
  EXPECT_GT(report.probes, 0);
  EXPECT_EQ(report.probes_answered, report.probes);
  EXPECT_EQ(server_->stats().header_timeouts, 500u);
  EXPECT_EQ(Find(Summary("slow"), "n")["total"], static_cast<double>(pushes));
}

TEST_F(IngestServerTest, OversizedBodyIs413BeforeItIsSent) {
  IngestOptions o;
  o.max_body = 1000;
  Start(o);
  // Only the header goes out: the answer does not wait for the 1 GB that would follow.
  fakes::RawConnection c(server_->port());
  ASSERT_TRUE(
      c.Send("POST /v2/metrics/big HTTP/1.1\r\nHost: x\r\nContent-Encoding: snappy\r\n"
             "Content-Length: 1000000000\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("over the limit of 1000 bytes (--max-body)"), std::string::npos)
      << r->body;
  // Chunked, as k6 sends it: cut off once the chunks pass the limit.
  fakes::RawConnection d(server_->port());
  ASSERT_TRUE(
      d.Send("POST /v1/metrics/big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
             "Content-Type: application/json\r\n\r\n800\r\n" +
             std::string(2048, ' ') + "\r\n"));
  r = d.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  ExpectError(client_->Get("/v1/runs/big/summary"), 404, "not stored");
}

TEST_F(IngestServerTest, TenThousandConnectionsLeakNoDescriptors) {
  ASSERT_TRUE(fakes::Fetch(server_->port(), "GET", "/v1/runs"));
  client_.reset();  // its keep-alive connection would count
  auto settled = [&] {
    for (int i = 0; i < 2000000 && server_->stats().open != 0; ++i) std::this_thread::yield();
    return server_->stats().open == 0;
  };
  ASSERT_TRUE(settled());
  const int fds = fakes::OpenFdCount();
  const long rss = fakes::RssKib();
  for (int i = 0; i < 10000; ++i) {
    fakes::RawConnection c(server_->port());
    ASSERT_TRUE(c.ok()) << i;
  }
  ASSERT_TRUE(settled());
  std::printf("ingest 10k connect/close: fds %d -> %d, RSS %ld -> %ld KiB\n", fds,
              fakes::OpenFdCount(), rss, fakes::RssKib());
  EXPECT_EQ(fakes::OpenFdCount(), fds);
}

// Issue 17 item 3: validation per series. k6 (v0.45 to its April 2026 fix) sends every
// gauge with min and max swapped: repaired and counted; a series of an unknown type or
// with a bad value is refused alone; the rest of the batch is stored exactly.
TEST_F(IngestServerTest, BadSeriesAreRefusedAloneAndSwappedGaugesRepaired) {
  MetricSetData d;
  d.series.push_back({"http_reqs",
                      MetricType::kCounter,
                      {{"status", "200"}},
                      {{1700000000, Counter{76}}, {1700000001, Counter{80}}}});
  d.series.push_back({"vus",
                      MetricType::kGauge,
                      {},
                      {{1700000000, Gauge{.last = 3, .min = 4, .max = 2, .sum = 6, .count = 2}}}});
  d.series.push_back({"checks", MetricType::kRate, {}, {{1700000000, Rate{9, 10}}}});
  std::string bytes = wire::k6::EncodeMetricSet(d);
  // A metric of type 7 (none such) with one empty series, and a trend sent as counters.
  bytes += std::string("\x1a\x09\x0a\x03odd\x10\x07\x1a\x00", 11);
  bytes += std::string("\x1a\x0f\x0a\x01x\x10\x04\x1a\x08\x12\x06\x0a\x04\x0a\x02\x08\x01", 17);
  auto r = PostRaw("/v2/metrics/k6run", wire::k6::SnappyCompress(bytes));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json answer = json::parse(r->body);
  EXPECT_EQ(answer["series"], 3);
  EXPECT_EQ(answer["repaired"], 1);
  EXPECT_EQ(answer["refused"], 2);
  ASSERT_EQ(answer["problems"]["repaired"].size(), 1u);
  EXPECT_NE(answer["problems"]["repaired"][0].get<std::string>().find(
                "\"vus\" time_series[0] values[0]: gauge min 4 was above max 2: swapped"),
            std::string::npos)
      << r->body;
  ASSERT_EQ(answer["problems"]["refused"].size(), 2u);
  EXPECT_NE(answer["problems"]["refused"][0].get<std::string>().find(
                "metrics[3] \"odd\": type 7 is not a metric type"),
            std::string::npos)
      << r->body;
  EXPECT_NE(answer["problems"]["refused"][1].get<std::string>().find(
                "metrics[4] \"x\" time_series[0]: carries counter samples"),
            std::string::npos);
  const json s = Summary("k6run");
  EXPECT_EQ(s["series"].size(), 3u) << s.dump();
  EXPECT_EQ(Find(s, "http_reqs")["total"], 156.0);
  EXPECT_EQ(Find(s, "vus")["min"], 2.0);
  EXPECT_EQ(Find(s, "vus")["max"], 4.0);
  EXPECT_EQ(Find(s, "vus")["last"], 3.0);
  EXPECT_EQ(Find(s, "checks")["rate"], 0.9);
  const json runs = json::parse(Get("/v1/runs"));
  EXPECT_EQ(runs["runs"][0]["repaired"], 1);
  EXPECT_EQ(runs["runs"][0]["refused"], 2);
}

// As k6 sends it: chunked, Authorization: Token, its User-Agent.
TEST_F(IngestServerTest, AcceptsK6sChunkedPushWithATokenHeader) {
  IngestOptions o;
  o.token = "k6-token";
  Start(o);
  MetricSetData d;
  d.series.push_back({"http_reqs", MetricType::kCounter, {}, {{1700000000, Counter{5}}}});
  const std::string body = wire::k6::SnappyCompress(wire::k6::EncodeMetricSet(d));
  auto chunked = [&](const std::string& auth) {
    std::string req =
        "POST /v2/metrics/chunky HTTP/1.1\r\nHost: x\r\nUser-Agent: k6cloud/0.48.0\r\n"
        "Content-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\n"
        "K6-Metrics-Protocol-Version: 2.0\r\n" +
        auth + "Transfer-Encoding: chunked\r\n\r\n";
    const size_t half = body.size() / 2;
    char size[32];
    std::snprintf(size, sizeof size, "%zx", half);
    req += std::string(size) + "\r\n" + body.substr(0, half) + "\r\n";
    std::snprintf(size, sizeof size, "%zx", body.size() - half);
    req += std::string(size) + "\r\n" + body.substr(half) + "\r\n0\r\n\r\n";
    fakes::RawConnection c(server_->port());
    EXPECT_TRUE(c.Send(req));
    return c.Read();
  };
  auto r = chunked("");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = chunked("Authorization: Token k6-token\r\n");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  r = chunked("Authorization: Bearer k6-token\r\n");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  client_->set_bearer_token_auth("k6-token");
  EXPECT_EQ(Find(Summary("chunky"), "http_reqs")["total"], 10.0);
}

}  // namespace
}  // namespace volley::ingest
