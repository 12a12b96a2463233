#include "volley/output/prometheus.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "volley/metrics/names.h"

namespace volley::output {
namespace {

namespace names = metrics::names;
using metrics::SeriesKey;

// Sample lines of `text`: "name{labels}" -> value text. Comment lines are skipped.
std::map<std::string, std::string> Samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

double Value(const std::map<std::string, std::string>& samples, const std::string& key) {
  auto it = samples.find(key);
  EXPECT_NE(it, samples.end()) << "no sample " << key;
  return it == samples.end() ? std::nan("") : std::strtod(it->second.c_str(), nullptr);
}

metrics::Histogram SmallHistogram() {
  metrics::Histogram h;  // 1 µs units
  for (uint64_t units : {500, 2000, 2000, 20000, 1500000}) h.RecordUnits(units);
  return h;
}

metrics::Snapshot SmallSnapshot() {
  metrics::Snapshot snap;
  snap.Put(SeriesKey(names::kStatusCodes, {{names::kStatusLabel, "503"}}), metrics::Counter{2});
  snap.Put(SeriesKey(names::kStatusCodes, {{names::kStatusLabel, "200"}}), metrics::Counter{5});
  metrics::Gauge g;
  g.Set(9);
  g.Set(3);
  snap.Put(SeriesKey(names::kConcurrentRequests), g);
  snap.Put(SeriesKey(names::kDuration), SmallHistogram());
  return snap;
}

ExpositionOptions SmallOptions() {
  ExpositionOptions o;
  o.le_bounds = {0.01, 0.001, 0.1};  // unsorted on purpose
  o.quantiles = {0.99, 0.5};
  return o;
}

TEST(Prometheus, RendersTheExactTextOfASmallSnapshot) {
  const std::string text = RenderPrometheus(SmallSnapshot(), SmallOptions());
  EXPECT_EQ(text,
            "# HELP volley_concurrent_requests Requests in flight at the last tick.\n"
            "# TYPE volley_concurrent_requests gauge\n"
            "volley_concurrent_requests 3\n"
            "# HELP volley_request_duration_seconds Request duration (sending + waiting + "
            "receiving) in seconds.\n"
            "# TYPE volley_request_duration_seconds histogram\n"
            "volley_request_duration_seconds_bucket{le=\"0.001\"} 1\n"
            "volley_request_duration_seconds_bucket{le=\"0.01\"} 3\n"
            "volley_request_duration_seconds_bucket{le=\"0.1\"} 4\n"
            "volley_request_duration_seconds_bucket{le=\"+Inf\"} 5\n"
            "volley_request_duration_seconds_sum 1.5245\n"
            "volley_request_duration_seconds_count 5\n"
            "# HELP volley_request_duration_seconds_quantile Quantiles (cumulative since the "
            "start) of volley_request_duration_seconds.\n"
            "# TYPE volley_request_duration_seconds_quantile summary\n"
            "volley_request_duration_seconds_quantile{quantile=\"0.5\"} 0.0020035\n"
            "volley_request_duration_seconds_quantile{quantile=\"0.99\"} 1.5\n"
            "volley_request_duration_seconds_quantile_sum 1.5245\n"
            "volley_request_duration_seconds_quantile_count 5\n"
            "# HELP volley_requests_status_codes_total HTTP responses by status code.\n"
            "# TYPE volley_requests_status_codes_total counter\n"
            "volley_requests_status_codes_total{status_code=\"200\"} 5\n"
            "volley_requests_status_codes_total{status_code=\"503\"} 2\n");
}

TEST(Prometheus, BucketsAndQuantilesOfKnownSamples) {
  const auto s = Samples(RenderPrometheus(SmallSnapshot(), SmallOptions()));
  const std::string b = "volley_request_duration_seconds_bucket";
  // Samples: 0.5 ms, 2 ms, 2 ms, 20 ms, 1.5 s.
  EXPECT_EQ(Value(s, b + "{le=\"0.001\"}"), 1);
  EXPECT_EQ(Value(s, b + "{le=\"0.01\"}"), 3);
  EXPECT_EQ(Value(s, b + "{le=\"0.1\"}"), 4);
  EXPECT_EQ(Value(s, b + "{le=\"+Inf\"}"), 5);
  EXPECT_DOUBLE_EQ(Value(s, "volley_request_duration_seconds_sum"), 1.5245);
  const std::string q = "volley_request_duration_seconds_quantile";
  // p50 is the 3rd sample (2 ms), reported as the midpoint of its fine bucket [2000, 2007] µs.
  EXPECT_NEAR(Value(s, q + "{quantile=\"0.5\"}"), 0.002, 0.002 / 128);
  EXPECT_DOUBLE_EQ(Value(s, q + "{quantile=\"0.5\"}"), SmallHistogram().Percentile(50));
  EXPECT_DOUBLE_EQ(Value(s, q + "{quantile=\"0.99\"}"), 1.5);  // rank 5 of 5: the max
}

TEST(Prometheus, ConstantLabelsGoOnEverySeriesAndAddNodeInfo) {
  metrics::Snapshot snap;
  snap.Put(SeriesKey(names::kRequests), metrics::Counter{42});
  // A series' own label wins over a constant one of the same key.
  snap.Put(SeriesKey("custom_total", {{"region", "own"}}), metrics::Counter{1});
  ExpositionOptions o;
  o.ns = "rust_loadtest";
  o.const_labels = {{"run_id", "r1"}, {"region", "eu-west"}, {"node_id", "n1"}};
  const std::string text = RenderPrometheus(snap, o);
  EXPECT_EQ(text,
            "# HELP rust_loadtest_cluster_node_info This node: its identity, region and state "
            "(standalone when not clustered).\n"
            "# TYPE rust_loadtest_cluster_node_info gauge\n"
            "rust_loadtest_cluster_node_info{node_id=\"n1\",region=\"eu-west\",run_id=\"r1\","
            "state=\"standalone\"} 1\n"
            "# HELP rust_loadtest_custom_total volley counter custom_total.\n"
            "# TYPE rust_loadtest_custom_total counter\n"
            "rust_loadtest_custom_total{node_id=\"n1\",region=\"own\",run_id=\"r1\"} 1\n"
            "# HELP rust_loadtest_requests_total HTTP requests that ended, with a response or "
            "an error.\n"
            "# TYPE rust_loadtest_requests_total counter\n"
            "rust_loadtest_requests_total{node_id=\"n1\",region=\"eu-west\",run_id=\"r1\"} 42\n");
  // Without node_id and region there is no node info.
  o.const_labels = {{"run_id", "r1"}};
  EXPECT_EQ(RenderPrometheus(snap, o).find("cluster_node_info"), std::string::npos);
}

TEST(Prometheus, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  metrics::Snapshot snap;
  snap.Put(SeriesKey("odd_total", {{"path", "/a\"b\\c\nd"}}), metrics::Counter{1});
  EXPECT_EQ(RenderPrometheus(snap, {}),
            "# HELP volley_odd_total volley counter odd_total.\n"
            "# TYPE volley_odd_total counter\n"
            "volley_odd_total{path=\"/a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Prometheus, CounterWithoutTotalSuffixIsUntypedAndKeepsItsName) {
  metrics::Snapshot snap;
  snap.Put(SeriesKey(names::kErrors, {{names::kCategoryLabel, "timeout_error"}}),
           metrics::Counter{4});
  const std::string text = RenderPrometheus(snap, {});
  EXPECT_NE(text.find("# TYPE volley_request_errors_by_category untyped\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("volley_request_errors_by_category{category=\"timeout_error\"} 4\n"),
            std::string::npos)
      << text;
}

TEST(Prometheus, RateBecomesTwoCounters) {
  metrics::Snapshot snap;
  snap.Put(SeriesKey("checks"), metrics::Rate{.nonzero = 7, .total = 10});
  EXPECT_EQ(RenderPrometheus(snap, {}),
            "# HELP volley_checks_nonzero_total volley rate checks. Non-zero samples.\n"
            "# TYPE volley_checks_nonzero_total counter\n"
            "volley_checks_nonzero_total 7\n"
            "# HELP volley_checks_total volley rate checks. All samples.\n"
            "# TYPE volley_checks_total counter\n"
            "volley_checks_total 10\n");
}

TEST(Prometheus, EmptyHistogramHasZeroBucketsAndNaNQuantiles) {
  metrics::Snapshot snap;
  snap.Put(SeriesKey(names::kTlsHandshaking), metrics::Histogram());
  const auto s = Samples(RenderPrometheus(snap, SmallOptions()));
  const std::string n = "volley_request_tls_handshaking_seconds";
  EXPECT_EQ(s.at(n + "_bucket{le=\"0.001\"}"), "0");
  EXPECT_EQ(s.at(n + "_bucket{le=\"+Inf\"}"), "0");
  EXPECT_EQ(s.at(n + "_sum"), "0");
  EXPECT_EQ(s.at(n + "_count"), "0");
  EXPECT_EQ(s.at(n + "_quantile{quantile=\"0.99\"}"), "NaN");
}

TEST(Prometheus, FamiliesAreSortedAndOneTypePerFamily) {
  metrics::Snapshot snap;
  snap.Put(SeriesKey("b_total"), metrics::Counter{1});
  snap.Put(SeriesKey("a"), metrics::Gauge{.last = 2});
  // Same name, another type: left out (one family has one TYPE).
  snap.Put(SeriesKey("a", {{"x", "1"}}), metrics::Counter{5});
  EXPECT_EQ(RenderPrometheus(snap, {}),
            "# HELP volley_a volley gauge a.\n"
            "# TYPE volley_a gauge\n"
            "volley_a 2\n"
            "# HELP volley_b_total volley counter b_total.\n"
            "# TYPE volley_b_total counter\n"
            "volley_b_total 1\n");
}

TEST(Prometheus, NumberFormatting) {
  EXPECT_EQ(FormatPromValue(0), "0");
  EXPECT_EQ(FormatPromValue(1234567), "1234567");
  EXPECT_EQ(FormatPromValue(1e15), "1000000000000000");
  EXPECT_EQ(FormatPromValue(-3), "-3");
  EXPECT_EQ(FormatPromValue(0.0025), "0.0025");
  EXPECT_EQ(FormatPromValue(1e-7), "1e-07");
  EXPECT_EQ(FormatPromValue(0.1 + 0.2), "0.30000000000000004");  // round-trips
  EXPECT_EQ(std::strtod(FormatPromValue(1.0 / 3).c_str(), nullptr), 1.0 / 3);
  EXPECT_EQ(FormatPromValue(1e300), "1e+300");
  EXPECT_EQ(FormatPromValue(INFINITY), "+Inf");
  EXPECT_EQ(FormatPromValue(-INFINITY), "-Inf");
  EXPECT_EQ(FormatPromValue(NAN), "NaN");
}

TEST(Prometheus, DefaultBoundsRunFromOneMillisecondToOneMinute) {
  const auto b = DefaultLeBounds();
  ASSERT_GE(b.size(), 15u);
  ASSERT_LE(b.size(), 20u);
  EXPECT_EQ(b.front(), 0.001);
  EXPECT_EQ(b.back(), 60);
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
}

TEST(Prometheus, BucketsOfARandomHistogramAreMonotonicAndBoundedByTheTruth) {
  std::mt19937_64 rng(20240611);
  std::lognormal_distribution<double> dist(std::log(0.02), 1.5);  // median 20 ms, long tail
  metrics::Histogram h;
  std::vector<uint64_t> units;
  for (int i = 0; i < 200'000; ++i) {
    const auto u = static_cast<uint64_t>(std::ceil(dist(rng) * 1e6));
    units.push_back(u);
    h.RecordUnits(u);
  }
  std::sort(units.begin(), units.end());
  metrics::Snapshot snap;
  snap.Put(SeriesKey(names::kWaiting), h);
  ExpositionOptions o;  // the default bounds
  const auto s = Samples(RenderPrometheus(snap, o));
  const std::string b = "volley_request_waiting_seconds_bucket";
  double previous = 0;
  for (double le : o.le_bounds) {
    const double got = Value(s, b + "{le=\"" + FormatPromValue(le) + "\"}");
    EXPECT_GE(got, previous) << "le=" << le;
    previous = got;
    // The exact count of samples <= le, and of samples a fine bucket width (< 1/128) below.
    const auto below = [&](double v) {
      return static_cast<double>(
          std::upper_bound(units.begin(), units.end(), static_cast<uint64_t>(v * 1e6 + 1e-6)) -
          units.begin());
    };
    EXPECT_LE(got, below(le)) << "le=" << le;
    EXPECT_GE(got, below(le * (1 - 1.0 / 128) - 1e-6)) << "le=" << le;
  }
  const double inf = Value(s, b + "{le=\"+Inf\"}");
  EXPECT_GE(inf, previous);
  EXPECT_EQ(inf, 200'000);
  EXPECT_EQ(Value(s, "volley_request_waiting_seconds_count"), inf);
}

// ---- promtool --------------------------------------------------------------------------

std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// A snapshot like the end of a real run: every name of names.h, several status codes,
// every error category, every phase histogram (TLS empty: a plain-http run), a rate.
metrics::Snapshot RealisticSnapshot() {
  metrics::Snapshot snap;
  std::mt19937_64 rng(7);
  std::exponential_distribution<double> latency(1 / 0.015);
  snap.Put(SeriesKey(names::kRequests), metrics::Counter{10'000});
  for (auto [code, n] : {std::pair{"200", 9000}, {"404", 400}, {"503", 500}}) {
    snap.Put(SeriesKey(names::kStatusCodes, {{names::kStatusLabel, code}}),
             metrics::Counter{static_cast<double>(n)});
  }
  double n = 1;
  for (const char* category : names::kCategories) {
    snap.Put(SeriesKey(names::kErrors, {{names::kCategoryLabel, category}}), metrics::Counter{n++});
  }
  snap.Put(SeriesKey(names::kDataSent), metrics::Counter{1.2e6});
  snap.Put(SeriesKey(names::kDataReceived), metrics::Counter{3.4e7});
  snap.Put(SeriesKey(names::kDroppedIterations), metrics::Counter{3});
  metrics::Gauge g;
  g.Set(17);
  snap.Put(SeriesKey(names::kConcurrentRequests), g);
  for (const char* name : {names::kDuration, names::kBlocked, names::kConnecting, names::kSending,
                           names::kWaiting, names::kReceiving, names::kIntendedLatency}) {
    metrics::Histogram h;
    for (int i = 0; i < 10'000; ++i) h.Record(latency(rng));
    snap.Put(SeriesKey(name), h);
  }
  snap.Put(SeriesKey(names::kTlsHandshaking), metrics::Histogram());
  snap.Put(SeriesKey("checks"), metrics::Rate{.nonzero = 9, .total = 10});
  return snap;
}

TEST(Prometheus, PromtoolCheckMetricsFindsNoProblem) {
  const std::string promtool = FindOnPath("promtool");
  if (promtool.empty()) {
    GTEST_SKIP() << "promtool is not on PATH: install Debian's `prometheus` package "
                    "(apt-get install prometheus) to run this check";
  }
  ExpositionOptions o;
  o.const_labels = {{"node_id", "node-1"}, {"region", "local"}, {"run_id", "run \"42\"\n"}};
  const std::string text = RenderPrometheus(RealisticSnapshot(), o);

  const auto file = std::filesystem::temp_directory_path() /
                    ("volley_promtool_" + std::to_string(getpid()) + ".prom");
  std::ofstream(file) << text;
  const std::string cmd = promtool + " check metrics < " + file.string() + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[4096];
  for (size_t got; (got = fread(buf, 1, sizeof buf, pipe)) > 0;) output.append(buf, got);
  const int status = pclose(pipe);
  std::filesystem::remove(file);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "promtool exit status " << status << "\n"
      << output << "\n--- exposition ---\n"
      << text;
  EXPECT_EQ(output, "") << "--- exposition ---\n" << text;
}

}  // namespace
}  // namespace volley::output
