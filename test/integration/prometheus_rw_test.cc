// `volley run --out prometheus-rw=URL` against a real Prometheus (Debian's 2.42, started
// here with --web.enable-remote-write-receiver on a free 127.0.0.1 port and a temporary
// storage directory) and a local `volley target`, all real processes: what Prometheus
// answers through its query API after the run equals the run's own report. Skipped when
// /usr/bin/prometheus is not installed.
#include <unistd.h>

#include <fstream>

#include "cli_harness.h"
#include "fakes/prometheus_server.h"
#include "volley/output/prometheus.h"

namespace volley {
namespace {

using namespace volley::testing;  // NOLINT: the harness of this test file

constexpr int kRequests = 3000;

TEST(PrometheusRemoteWrite, RealPrometheusStoresTheReportsNumbers) {
  if (access(kPrometheusBinary, X_OK) != 0) {
    GTEST_SKIP() << kPrometheusBinary << " is not installed (Debian package `prometheus`)";
  }
  std::string error;
  auto prometheus = PrometheusServer::Start({.remote_write_receiver = true}, &error);
  ASSERT_NE(prometheus, nullptr) << error;
  Target target;
  ASSERT_TRUE(StartTarget({"--threads", "1", "--status-mix", "200:90,503:10"}, &target));
  TempDir dir;
  const std::string summary_path = dir.File("summary.json");
  // k6's variable names for the interval and the URL argument of --out.
  Outcome run =
      RunVolley({"run", "--url", target.Url(), "-c", "4", "-t", "2", "-n",
                 std::to_string(kRequests), "-q", "--metrics-addr", "", "--out",
                 "prometheus-rw=" + prometheus->WriteUrl(), "--summary-export", summary_path},
                CleanEnv({{"RUN_ID", "it-rw"},
                          {"CLUSTER_NODE_ID", "it-node"},
                          {"K6_PROMETHEUS_RW_PUSH_INTERVAL", "1s"}}));
  ASSERT_TRUE(run.status.Exited(0)) << run.Diagnostics();
  EXPECT_NE(run.out.find("prometheus-rw: "), std::string::npos) << run.out;
  EXPECT_NE(run.out.find(" 0 rejected, 0 dropped (backlog full), 0 unsent at stop"),
            std::string::npos)
      << run.out;
  const json report = ParseJson(ReadFile(summary_path));
  ASSERT_EQ(report.value("requests_total", 0), kRequests);

  // The run ended with stale markers: an instant query at "now" sees no series any more,
  // while the last real samples stay reachable through a range (ranges skip stale markers).
  // (Evaluated 1 s ahead: the marker is 1 ms after the last collection, which may be a
  // millisecond or two ahead of this clock.)
  const double ahead =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() +
      1;
  const auto current = prometheus->Query("volley_requests_total", ahead);
  ASSERT_TRUE(current.has_value()) << prometheus->Diagnostics();
  EXPECT_EQ(current->size(), 0u);
  EXPECT_EQ(prometheus->Scalar("sum(last_over_time(volley_requests_total[10m]))"),
            static_cast<double>(kRequests));
  EXPECT_EQ(prometheus->Scalar("sum(last_over_time(volley_request_duration_seconds_count[10m]))"),
            static_cast<double>(kRequests));
  for (const auto& [code, n] : report["status_codes"].items()) {
    EXPECT_EQ(prometheus->Scalar("sum(last_over_time(volley_requests_status_codes_total{"
                                 "status_code=\"" +
                                 code + "\"}[10m]))"),
              n.get<double>())
        << code;
  }

  // The series carry the run's labels.
  auto series = prometheus->Query("last_over_time(volley_requests_total[10m])");
  ASSERT_TRUE(series.has_value());
  ASSERT_FALSE(series->empty());
  for (const auto& [labels, value] : *series) {
    EXPECT_EQ(labels.value("run_id", ""), "it-rw") << labels.dump();
    EXPECT_EQ(labels.value("node_id", ""), "it-node") << labels.dump();
    EXPECT_EQ(labels.value("region", ""), "local") << labels.dump();
  }

  // p99: Prometheus interpolates inside the classic bucket where rank 0.99 * count falls.
  // The report's p99 is the midpoint of a fine histogram bucket (1/128 relative), so
  // Prometheus' answer lies between the `le` below that fine bucket and the first `le` at
  // or above it.
  const double p99 = report["latency_ms"]["p99"].get<double>() / 1000;
  const std::vector<double> bounds = output::DefaultLeBounds();
  double lower = 0;
  double upper = bounds.back();
  for (double le : bounds) {
    if (le < p99 * (1 - 1.0 / 128)) lower = le;
  }
  for (double le : bounds) {
    if (le >= p99 * (1 + 1.0 / 128)) {
      upper = le;
      break;
    }
  }
  const auto quantile = prometheus->Scalar(
      "histogram_quantile(0.99, sum by (le) "
      "(last_over_time(volley_request_duration_seconds_bucket[10m])))");
  ASSERT_TRUE(quantile.has_value()) << prometheus->Diagnostics();
  EXPECT_GE(*quantile, lower) << "volley p99 " << p99;
  EXPECT_LE(*quantile, upper) << "volley p99 " << p99;
  std::cout << "requests_total: volley " << kRequests << ", Prometheus "
            << *prometheus->Scalar("sum(last_over_time(volley_requests_total[10m]))")
            << "; p99: volley " << p99 << " s, Prometheus " << *quantile << " s (bucket [" << lower
            << ", " << upper << "])\n";
  json printed;
  StopTarget(target, &printed);
}

// The plan form: `outputs: [{type: prometheus-rw, ...}]`, its options checked by validate
// with the entry's position and the option named.
TEST(PrometheusRemoteWrite, PlanEntryOptionsAreValidated) {
  TempDir dir;
  const std::string plan = dir.File("rw.yaml");
  std::ofstream(plan) << R"(version: "1.0"
config:
  baseUrl: http://127.0.0.1:9/
  duration: 5s
scenarios: [{name: S, steps: [{request: {path: /}}]}]
outputs:
  - type: prometheus-rw
    url: http://127.0.0.1:9/api/v1/write
    push_interval: soon
    labels: env=ci
)";
  Outcome bad = RunVolley({"validate", "--no-env", plan});
  ASSERT_TRUE(bad.status.Exited(2)) << bad.Diagnostics();
  EXPECT_NE(bad.err.find(plan + ":7:5: outputs[0]: option push_interval: want a positive "
                                "duration such as 5s or 500ms, got 'soon'"),
            std::string::npos)
      << bad.err;
  std::ofstream(plan, std::ios::trunc) << R"(version: "1.0"
config:
  baseUrl: http://127.0.0.1:9/
  duration: 5s
scenarios: [{name: S, steps: [{request: {path: /}}]}]
outputs: [{type: prometheus-rw, url: "http://127.0.0.1:9/api/v1/write", push_interval: 2s}]
)";
  Outcome good = RunVolley({"validate", "--no-env", plan});
  EXPECT_TRUE(good.status.Exited(0)) << good.Diagnostics();
}

}  // namespace
}  // namespace volley
