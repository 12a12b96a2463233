// How fast each push output's backlog grows while its endpoint is down (issue 19: bounds
// chosen by measurement). For 100, 1,000 and 10,000 series (half counters
// `requests_total{endpoint}`, half trends `request_duration_seconds{endpoint}` with a spread
// of latencies) each output runs with its default intervals against a refused port on
// 127.0.0.1 for `--minutes` of fake time (a FakeClock stepped one second at a time, every
// second a delta for every series), with retries parked and an unbounded backlog; then its
// backlog bytes are read. Prints bytes per series per minute of outage, and how long the
// default bound covers. A plain program: `build/bench/backlog_bench [--minutes N]`.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "volley/common/clock.h"
#include "volley/metrics/collector.h"
#include "volley/output/cloud_output.h"
#include "volley/output/otlp_output.h"
#include "volley/output/prometheus_rw_output.h"

namespace volley {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kWallStart = 1'800'000'000'000'000'000;

uint16_t RefusedPort() {
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

struct Probe {
  std::unique_ptr<output::Output> out;
  std::function<uint64_t()> backlog;  // bytes waiting now
  std::function<uint64_t()> batches;  // collections so far (0: not observable)
  Nanos interval{0};                  // between collections (0: catches up by itself)
  uint64_t default_bound = 0;
};

Probe Make(const std::string& kind, const std::string& base, const output::OutputContext& ctx) {
  Probe p;
  const std::string huge = std::to_string(uint64_t{64} << 30);
  if (kind == "cloud") {
    auto o = output::CloudOutput::Create(
        base, {{"maxBacklog", "64GiB"}, {"retryBackoff", "1h"}, {"maxRetryBackoff", "1h"}}, {},
        ctx);
    if (!o) {
      fprintf(stderr, "cloud: %s\n", o.error().message.c_str());
      exit(1);
    }
    output::CloudOutput* c = o->get();
    c->SetLogger([](const std::string&) {});
    p.backlog = [c] { return c->stats().backlog_bytes; };
    p.batches = [] { return uint64_t{0}; };
    p.default_bound = uint64_t{64} << 20;
    p.out = std::move(*o);
  } else if (kind == "otlp") {
    auto o = output::OtlpOutput::Create(
        base + "/v1/metrics", {{"queue_bytes", huge}, {"backoff", "1h"}, {"backoff_max", "1h"}}, {},
        ctx);
    if (!o) exit(1);
    output::OtlpOutput* x = o->get();
    x->set_log_sink([](const std::string&) {});
    p.backlog = [x] { return x->stats().queue_bytes; };
    p.batches = [x] { return x->stats().batches; };
    p.interval = x->settings().interval;
    p.default_bound = output::OtlpSettings().queue_bytes;
    p.out = std::move(*o);
  } else {
    auto o = output::PrometheusRwOutput::Create(
        base + "/api/v1/write", {{"queue_bytes", huge}, {"backoff", "1h"}, {"backoff_max", "1h"}},
        {}, ctx);
    if (!o) exit(1);
    output::PrometheusRwOutput* x = o->get();
    x->set_log_sink([](const std::string&) {});
    p.backlog = [x] { return x->stats().queue_bytes; };
    p.batches = [x] { return x->stats().batches; };
    p.interval = x->settings().push_interval;
    p.default_bound = output::PrometheusRwSettings().queue_bytes;
    p.out = std::move(*o);
  }
  return p;
}

bool WaitFor(const std::function<bool()>& cond, milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

// Bytes per series per minute of outage, and the output's default bound.
std::pair<double, uint64_t> Measure(const std::string& kind, int series, int minutes) {
  FakeClock clock;
  metrics::Collector collector(clock.Now());
  output::OutputContext ctx;
  ctx.collector_start = clock.Now();
  ctx.wall_start_unix_nanos = kWallStart;
  ctx.run_id = "bench";
  ctx.node_id = "n";
  ctx.region = "eu";
  ctx.clock = &clock;
  const std::string base = "http://127.0.0.1:" + std::to_string(RefusedPort());
  Probe p = Make(kind, base, ctx);
  if (!p.out->Start(collector)) exit(1);
  const int counters = series / 2;
  const int trends = series - counters;
  uint64_t seed = 1;
  for (int s = 1; s <= minutes * 60; ++s) {
    metrics::Snapshot d;
    for (int i = 0; i < counters; ++i) {
      d.Put({"requests_total", {{"endpoint", "/e" + std::to_string(i)}}}, metrics::Counter{10});
    }
    for (int i = 0; i < trends; ++i) {
      metrics::Histogram h;
      for (int k = 0; k < 10; ++k) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        h.RecordUnits(500 + (seed >> 33) % 50'000);  // 0.5 to 50 ms
      }
      d.Put({"request_duration_seconds", {{"endpoint", "/e" + std::to_string(i)}}}, h);
    }
    collector.AddDelta(std::move(d));
    collector.Tick(clock.Now());
    clock.Advance(seconds(1));
    if (p.interval > Nanos(0)) {
      const uint64_t want = static_cast<uint64_t>(seconds(s) / p.interval);
      if (!WaitFor([&] { return p.batches() >= want; }, milliseconds(60'000))) {
        fprintf(stderr, "%s: collection fell behind\n", kind.c_str());
        exit(1);
      }
    }
  }
  // Let a self-paced output (cloud) catch up: the backlog stops growing.
  uint64_t last = 0;
  for (int still = 0; still < 50;) {
    std::this_thread::sleep_for(milliseconds(10));
    const uint64_t now = p.backlog();
    still = now == last ? still + 1 : 0;
    last = now;
  }
  const double per = static_cast<double>(p.backlog()) / series / minutes;
  p.out->Stop(clock.Now());
  return {per, p.default_bound};
}

}  // namespace
}  // namespace volley

int main(int argc, char** argv) {
  int minutes = 5;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--minutes") == 0) minutes = std::atoi(argv[i + 1]);
  }
  printf("backlog growth during an outage (%d min of fake time, defaults per output)\n", minutes);
  printf("%-14s %7s %16s %22s\n", "output", "series", "B/series/min", "default bound covers");
  for (const char* kind : {"cloud", "otlp", "prometheus-rw"}) {
    for (int series : {100, 1000, 10000}) {
      const auto [per, bound] = volley::Measure(kind, series, minutes);
      const double covers_min = static_cast<double>(bound) / (per * series);
      printf("%-14s %7d %16.0f %17.1f min (%.1f h)\n", kind, series, per, covers_min,
             covers_min / 60);
      fflush(stdout);
    }
  }
  return 0;
}
