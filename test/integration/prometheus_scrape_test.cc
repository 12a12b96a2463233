// A real Prometheus server (Debian's `prometheus`, started here as a child process on
// loopback) scrapes volley's /metrics while the engine runs a closed-model test against
// the built-in target; after the run, what Prometheus answers through its HTTP API must be
// volley's own final numbers. Skipped when /usr/bin/prometheus is not installed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

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
using testing::Subprocess;
using testing::TempDir;

constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr uint64_t kRequests = 3000;

// A port that was free a moment ago (Prometheus cannot be told to pick one and report it).
uint16_t FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  uint16_t port = 0;
  if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  if (fd >= 0) close(fd);
  return port;
}

std::string UrlEncode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// A Prometheus child process scraping one target every second.
class PrometheusServer {
 public:
  // Starts Prometheus on a free loopback port and waits until /-/ready answers 200.
  // Returns nullptr (with `*error`) when it does not come up.
  static std::unique_ptr<PrometheusServer> Start(uint16_t target_port, std::string* error) {
    std::unique_ptr<PrometheusServer> p(new PrometheusServer);
    if (!p->dir_.ok()) {
      *error = "mkdtemp failed";
      return nullptr;
    }
    std::ofstream(p->dir_.File("prometheus.yml")) << "global:\n"
                                                     "  scrape_interval: 1s\n"
                                                     "  scrape_timeout: 1s\n"
                                                     "scrape_configs:\n"
                                                     "  - job_name: volley\n"
                                                     "    static_configs:\n"
                                                     "      - targets: ['127.0.0.1:"
                                                  << target_port << "']\n";
    // The port is probed free, then handed over: another process may take it in between,
    // so a Prometheus that exits at once is retried on a new port.
    for (int attempt = 0; attempt < 3; ++attempt) {
      p->port_ = FreeLoopbackPort();
      p->process_ = Subprocess::Spawn(
          {kPrometheus, "--config.file=" + p->dir_.File("prometheus.yml"),
           "--storage.tsdb.path=" + p->dir_.File("data"),
           "--web.listen-address=127.0.0.1:" + std::to_string(p->port_), "--log.level=warn"},
          Env{}, error);
      if (!p->process_) return nullptr;
      const bool ready = PollUntil(
          [&] {
            if (!p->process_->running()) return true;
            fakes::LoopbackClient c(p->port_);
            c.set_timeout(std::chrono::milliseconds(1000));
            auto r = c.Get("/-/ready");
            return r && r->status == 200;
          },
          milliseconds(20'000), milliseconds(50));
      if (ready && p->process_->running()) return p;
      *error = "prometheus did not become ready:\n" + p->process_->Diagnostics();
      p->process_.reset();  // kills and reaps it
    }
    return nullptr;
  }

  ~PrometheusServer() {
    if (process_ && process_->Signal(SIGTERM)) process_->Wait(milliseconds(10'000));
  }

  // The instant vector of `promql` as (labels, value) pairs; nullopt when the API fails.
  std::optional<std::vector<std::pair<nlohmann::json, double>>> Query(const std::string& promql) {
    fakes::LoopbackClient c(port_);
    c.set_timeout(std::chrono::milliseconds(5000));
    auto r = c.Get(("/api/v1/query?query=" + UrlEncode(promql)).c_str());
    if (!r || r->status != 200) return std::nullopt;
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_discarded() || j.value("status", "") != "success") return std::nullopt;
    std::vector<std::pair<nlohmann::json, double>> out;
    for (const auto& e : j["data"]["result"]) {
      out.emplace_back(e["metric"], std::stod(e["value"][1].get<std::string>()));
    }
    return out;
  }

  // The single value of `promql`, or nullopt while the answer is not exactly one sample.
  std::optional<double> Scalar(const std::string& promql) {
    auto v = Query(promql);
    if (!v || v->size() != 1) return std::nullopt;
    return v->front().second;
  }

  std::string Diagnostics() const { return process_ ? process_->Diagnostics() : ""; }

 private:
  PrometheusServer() = default;
  TempDir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

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
  auto prometheus = PrometheusServer::Start(server.port(), &error);
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

  // p99: Prometheus interpolates linearly inside the classic `le` bucket where the rank
  // 0.99 * count falls; volley's p99 is the midpoint of the fine (1/128) bucket of rank
  // ceil(0.99 * count). Each exposed bucket count leaves out only the fine bucket that
  // straddles its bound, so Prometheus' bucket is the first `le` at or above the upper edge
  // of volley's fine bucket, and its answer lies between the `le` below volley's p99 and
  // that bound. One rank either side is allowed because q * count in floating point can
  // round the two ranks apart by one sample.
  const metrics::Histogram h = final_snapshot.MergedTrend(names::kDuration);
  ASSERT_EQ(h.count(), requests);
  const double p99 = h.Percentile(99);
  const double step = 100.0 / static_cast<double>(h.count());  // one rank, in percent
  const double low_value = h.Percentile(99 - step);
  const double high_value = h.Percentile(99 + step);
  const auto fine_upper = [&](double v) {
    const auto units = static_cast<uint64_t>(std::ceil(v / h.min_resolution() - 1e-9));
    return static_cast<double>(
               metrics::Histogram::BucketUpperUnits(metrics::Histogram::BucketIndex(units))) *
           h.min_resolution();
  };
  const std::vector<double> bounds = FineBounds();
  double lower = 0;  // the largest le below the value, 0 below the first bound
  for (double le : bounds) {
    if (le < low_value) lower = le;
  }
  double upper = bounds.back();  // for the +Inf bucket Prometheus answers the last bound
  for (double le : bounds) {
    if (le >= fine_upper(high_value)) {
      upper = le;
      break;
    }
  }
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
