// `volley ingest` under load (issue 17 item 4): many k6-like pushers against one ingest.
//
// In one process: an IngestServer on 127.0.0.1 with a fresh SQLite file (WAL,
// synchronous=NORMAL, busy_timeout 5 s, one transaction per push, writes serialised), and
// N pusher threads, each with its own keep-alive http::HttpClient (libcurl) as k6 keeps one
// connection. Each push is a realistic k6 v2 body of one second of one node: 3 trends
// (http_req_duration, http_req_waiting, iteration_duration) over 4 label sets each, with
// ~50 samples per histogram, plus http_reqs, iterations, data_sent/received counters,
// checks and http_req_failed rates and the vus gauge: 24 series, snappy protobuf.
//
// Phases: steady (every pusher pushes once a second, start times spread over the
// second) for --steady seconds; then burst (every pusher pushes back to back, no pause)
// for --burst seconds. For each phase: pushes answered 200, pushes/s, latency p50/p99/max.
// Usage: ingest_load_bench [--pushers 100] [--steady 20] [--burst 5]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "volley/common/http_client.h"
#include "volley/ingest/server.h"
#include "volley/ingest/store.h"
#include "volley/wire/k6_metrics.h"

namespace {

using namespace volley;
using metrics::Histogram;
using metrics::MetricType;
using BenchClock = std::chrono::steady_clock;

wire::k6::MetricSetData OneSecond(int node, int64_t second, std::mt19937_64& rng) {
  std::lognormal_distribution<double> ms(std::log(20.0), 0.5);
  wire::k6::MetricSetData d;
  d.aggregation_period_seconds = 1;
  const char* urls[4] = {"/login", "/items", "/items/{id}", "/checkout"};
  for (const char* trend : {"http_req_duration", "http_req_waiting", "iteration_duration"}) {
    for (int u = 0; u < 4; ++u) {
      Histogram h(0.001);  // k6's milliseconds
      for (int i = 0; i < 50; ++i) h.Record(ms(rng) * (trend[0] == 'i' ? 3 : 1));
      d.series.push_back({trend,
                          MetricType::kTrend,
                          {{"method", u == 3 ? "POST" : "GET"},
                           {"name", urls[u]},
                           {"scenario", "default"},
                           {"status", "200"}},
                          {{second, h}}});
    }
  }
  const metrics::Labels node_labels = {{"instance", "node-" + std::to_string(node)}};
  for (const char* c : {"http_reqs", "iterations", "data_sent", "data_received"}) {
    d.series.push_back({c, MetricType::kCounter, node_labels, {{second, metrics::Counter{200}}}});
  }
  for (const char* r : {"checks", "http_req_failed"}) {
    d.series.push_back({r, MetricType::kRate, node_labels, {{second, metrics::Rate{3, 200}}}});
  }
  d.series.push_back(
      {"vus",
       MetricType::kGauge,
       node_labels,
       {{second, metrics::Gauge{.last = 10, .min = 10, .max = 10, .sum = 10, .count = 1}}}});
  return d;
}

struct Phase {
  std::mutex mu;
  std::vector<double> latencies_ms;  // guarded by mu
  std::atomic<int> ok{0}, failed{0};
};

void Report(const char* name, Phase& p, double seconds) {
  std::lock_guard<std::mutex> lock(p.mu);
  auto& l = p.latencies_ms;
  std::sort(l.begin(), l.end());
  auto at = [&](double q) {
    return l.empty() ? 0.0 : l[std::min(l.size() - 1, size_t(q * l.size()))];
  };
  std::printf(
      "%-6s pushes ok %6d failed %d  %7.1f pushes/s  p50 %6.2f ms  p99 %6.2f ms  max %7.2f ms\n",
      name, p.ok.load(), p.failed.load(), p.ok.load() / seconds, at(0.50), at(0.99),
      l.empty() ? 0.0 : l.back());
}

}  // namespace

int main(int argc, char** argv) {
  int pushers = 100, steady_s = 20, burst_s = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--pushers")) pushers = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--steady")) steady_s = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--burst")) burst_s = std::atoi(argv[i + 1]);
  }
  char dir_template[] = "/tmp/ingest_bench_XXXXXX";
  if (!mkdtemp(dir_template)) return 1;
  const std::string dir = dir_template;
  auto store = ingest::Store::Open(dir + "/ingest.db");
  if (!store) {
    std::fprintf(stderr, "%s\n", store.error().message.c_str());
    return 1;
  }
  ingest::IngestOptions options;
  options.listen = "127.0.0.1:0";
  auto server = ingest::IngestServer::Start(options, **store);
  if (!server) {
    std::fprintf(stderr, "%s\n", server.error().message.c_str());
    return 1;
  }
  const std::string url = "http://127.0.0.1:" + std::to_string((*server)->port()) + "/v2/metrics/";
  Phase steady, burst;
  const auto start = BenchClock::now();
  const auto burst_start = start + std::chrono::seconds(steady_s);
  const auto end = burst_start + std::chrono::seconds(burst_s);
  std::vector<std::thread> threads;
  for (int n = 0; n < pushers; ++n) {
    threads.emplace_back([&, n] {
      http::HttpClient client;
      std::mt19937_64 rng(n);
      // Bodies prepared ahead: the bench measures ingest, not the encoder.
      std::vector<std::string> bodies;
      for (int s = 0; s < 8; ++s) {
        bodies.push_back(
            wire::k6::SnappyCompress(wire::k6::EncodeMetricSet(OneSecond(n, 1700000000 + s, rng))));
      }
      auto next = start + std::chrono::milliseconds(1000 * n / pushers);
      for (int i = 0;; ++i) {
        const auto now = BenchClock::now();
        if (now >= end) break;
        const bool bursting = now >= burst_start;
        if (!bursting) {
          std::this_thread::sleep_until(next);  // the pusher's 1 s cadence
          next += std::chrono::seconds(1);
          if (BenchClock::now() >= burst_start) continue;
        }
        http::ClientRequest req;
        req.url = url + "run-" + std::to_string(n % 10);
        req.headers.Add("Content-Type", "application/x-protobuf");
        req.headers.Add("Content-Encoding", "snappy");
        req.headers.Add("K6-Metrics-Protocol-Version", "2.0");
        req.headers.Add("K6-Idempotency-Key", std::to_string(n) + "-" + std::to_string(i));
        req.body = bodies[static_cast<size_t>(i) % bodies.size()];
        req.timeout = std::chrono::seconds(30);
        const auto t0 = BenchClock::now();
        auto r = client.Send(req);
        const double ms = std::chrono::duration<double, std::milli>(BenchClock::now() - t0).count();
        Phase& p = bursting ? burst : steady;
        if (r && r->status == 200) {
          ++p.ok;
          std::lock_guard<std::mutex> lock(p.mu);
          p.latencies_ms.push_back(ms);
        } else {
          ++p.failed;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::printf("ingest_load_bench: %d pushers, 24-series k6 v2 bodies (%zu bytes snappy)\n", pushers,
              wire::k6::SnappyCompress(wire::k6::EncodeMetricSet([] {
                std::mt19937_64 rng(0);
                return OneSecond(0, 1700000000, rng);
              }()))
                  .size());
  Report("steady", steady, steady_s);
  Report("burst", burst, burst_s);
  (*server)->Stop();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return steady.failed.load() + burst.failed.load() == 0 ? 0 : 1;
}
