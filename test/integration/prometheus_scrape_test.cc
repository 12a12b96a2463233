// A real Prometheus server (Debian's `prometheus`, started here as a child process on
// loopback) scrapes volley's /metrics while the engine runs a closed-model test against
// the built-in target; after the run, what Prometheus answers through its HTTP API must be
// volley's own final numbers. Skipped when /usr/bin/prometheus is not installed.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fakes/prometheus_server.h"
#include "fakes/raw_http.h"
#include "fakes/subprocess.h"
#include "volley/config/env.h"
#include "volley/engine/engine.h"
#include "volley/metrics/collector.h"
#include "volley/metrics/names.h"
#include "volley/output/metrics_server.h"
#include "volley/output/prometheus.h"
#include "volley/target/options.h"
#include "volley/target/target_server.h"

namespace volley {
namespace {

namespace names = metrics::names;
using std::chrono::milliseconds;
using testing::Env;
using testing::PollUntil;
using testing::PrometheusServer;
using testing::Subprocess;
using testing::TempDir;

constexpr const char* kPrometheus = testing::kPrometheusBinary;
constexpr uint64_t kRequests = 3000;

// le bounds 1 ms apart from 1 to 40 ms (the target answers in 1-20 ms), then the default
// ones above: fine enough that Prometheus' interpolated p99 is within a millisecond or two.
std::vector<double> FineBounds() {
  std::vector<double> b;
  for (int ms = 1; ms <= 40; ++ms) b.push_back(ms / 1000.0);
  for (double d : output::DefaultLeBounds()) {
    if (d > 0.040) b.push_back(d);
  }
  return b;
}

TEST(PrometheusScrape, RealPrometheusSeesVolleysFinalNumbers) {
  if (access(kPrometheus, X_OK) != 0) {
    GTEST_SKIP() << kPrometheus << " is not installed (Debian package `prometheus`)";
  }
  target::TargetOptions target_options;
  target_options.listen = "127.0.0.1:0";
  target_options.threads = 2;
  target_options.latency_min = milliseconds(1);
  target_options.latency_max = milliseconds(20);
  auto target = target::TargetServer::Start(target_options);
  ASSERT_TRUE(target.has_value()) << target.error().message;

  metrics::Collector collector(MonotonicNow());
  output::ExpositionOptions exposition;
  exposition.const_labels = {{"node_id", "it-node"}, {"region", "local"}, {"run_id", "it"}};
  exposition.le_bounds = FineBounds();
  auto metrics_server = output::MetricsServer::Start(
      "127.0.0.1:0", [&] { return output::RenderPrometheus(collector.Cumulative(), exposition); });
  ASSERT_TRUE(metrics_server.has_value()) << metrics_server.error().message;
  output::MetricsServer& server = **metrics_server;

  std::string error;
  auto prometheus = PrometheusServer::Start({.scrape_port = server.port()}, &error);
  ASSERT_NE(prometheus, nullptr) << error;
  // Prometheus scrapes us before the run starts (and so will during it).
  ASSERT_TRUE(server.WaitForScrapeAfter(0, std::chrono::seconds(15))) << "no scrape within 15 s\n"
                                                                      << prometheus->Diagnostics();

  config::TestPlan plan;
  plan.target = *config::ParseUrl("http://127.0.0.1:" + std::to_string((*target)->port()) + "/");
  plan.threads = 2;
  plan.workers = 8;
  plan.max_requests = kRequests;
  plan.duration = std::chrono::seconds(20);  // a bound on a broken run; it ends by count
  ASSERT_TRUE(config::Validate(plan).has_value());
  auto engine = engine::Engine::Create(plan);
  ASSERT_TRUE(engine.has_value()) << engine.error().message;
  Result<engine::RunInfo> info = MakeError(ErrorCode::kInternal, "not run");
  std::thread runner([&] { info = (*engine)->Run(collector, nullptr); });
  runner.join();
  ASSERT_TRUE(info.has_value()) << info.error().message;

  // The run is over and the collector holds the final values; keep serving until a scrape
  // that began after this point (the CLI's linger works the same way).
  const uint64_t scraped = server.scrapes();
  const metrics::Snapshot final_snapshot = collector.Cumulative();
  const auto requests = static_cast<uint64_t>(final_snapshot.SumCounter(names::kRequests));
  ASSERT_EQ(requests, kRequests);
  ASSERT_TRUE(server.WaitForScrapeAfter(scraped, std::chrono::seconds(10)));

  // Prometheus has the final scrape once it answers the final count (its ingestion lags
  // the scrape a little, so poll).
  std::optional<double> seen;
  const bool arrived = PollUntil(
      [&] {
        seen = prometheus->Scalar("sum(volley_requests_total)");
        return seen && *seen == static_cast<double>(requests);
      },
      milliseconds(20'000), milliseconds(100));
  ASSERT_TRUE(arrived) << "Prometheus says " << (seen ? std::to_string(*seen) : "nothing")
                       << ", volley counted " << requests << "\n"
                       << prometheus->Diagnostics();
  EXPECT_EQ(*seen, static_cast<double>(requests));
  EXPECT_EQ(prometheus->Scalar("sum(volley_request_duration_seconds_count)"),
            static_cast<double>(requests));
  EXPECT_EQ(prometheus->Scalar("volley_cluster_node_info{node_id=\"it-node\"}"), 1.0);

  // p99: within the classic bucket volley's p99 falls in (testing::QuantileBounds).
  const metrics::Histogram h = final_snapshot.MergedTrend(names::kDuration);
  ASSERT_EQ(h.count(), requests);
  const double p99 = h.Percentile(99);
  const auto [lower, upper] = testing::QuantileBounds(h, 0.99, FineBounds());
  const auto quantile =
      prometheus->Scalar("histogram_quantile(0.99, volley_request_duration_seconds_bucket)");
  ASSERT_TRUE(quantile.has_value()) << prometheus->Diagnostics();
  EXPECT_GE(*quantile, lower) << "volley p99 " << p99;
  EXPECT_LE(*quantile, upper) << "volley p99 " << p99;

  // The endpoint's own output after a real run passes promtool's checks (when installed).
  if (access("/usr/bin/promtool", X_OK) == 0) {
    fakes::LoopbackClient c(server.port());
    auto body = c.Get("/metrics");
    ASSERT_TRUE(body && body->status == 200);
    TempDir dir;
    std::ofstream(dir.File("metrics.prom")) << body->body;
    auto promtool = Subprocess::Spawn(
        {"/bin/sh", "-c", "exec /usr/bin/promtool check metrics < " + dir.File("metrics.prom")},
        Env{}, &error);
    ASSERT_NE(promtool, nullptr) << error;
    const testing::ExitStatus status = promtool->Wait(milliseconds(20'000));
    EXPECT_TRUE(status.Exited(0)) << status.Describe() << "\n" << promtool->Diagnostics();
    EXPECT_EQ(promtool->Stdout() + promtool->Stderr(), "") << body->body;
  }
  std::cout << "requests_total: volley " << requests << ", Prometheus " << *seen << "; p99: volley "
            << p99 << " s, Prometheus " << *quantile << " s (bounds [" << lower << ", " << upper
            << "]); scrapes served " << server.scrapes() << "\n";
}

}  // namespace
}  // namespace volley
