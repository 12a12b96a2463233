#include "volley/engine/engine.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <strings.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "scenario_program.h"
#include "tls_context.h"
#include "volley/common/strings.h"
#include "volley/engine/measurements.h"
#include "worker.h"

namespace volley::engine {

struct Engine::Impl {
  config::TestPlan plan;
  std::unique_ptr<TlsContext> tls;
  std::unique_ptr<ScenarioProgram> program;  // scenario mode
  RunShared shared;
  std::vector<std::unique_ptr<Worker>> workers;
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;              // guarded by mu
  bool stop_requested = false;  // guarded by mu
  bool ran = false;
};

namespace {

bool HasHeader(const std::vector<config::Header>& headers, const char* name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
}

Result<Endpoint> Resolve(const config::TestPlan& plan) {
  std::string host = plan.target.host;
  uint16_t port = plan.target.port;
  if (!plan.resolve_host.empty() && strcasecmp(plan.resolve_host.c_str(), host.c_str()) == 0) {
    host = plan.resolve_ip;
    port = plan.resolve_port;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port_text = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &res);
  if (rc != 0 || !res) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot resolve target host '" + host + "': " + gai_strerror(rc) +
                         " (check TARGET_URL, or set RESOLVE_TARGET_ADDR=host:ip:port)");
  }
  Endpoint ep;
  std::memcpy(&ep.addr, res->ai_addr, res->ai_addrlen);
  ep.addr_len = static_cast<socklen_t>(res->ai_addrlen);
  freeaddrinfo(res);
  return ep;
}

uint64_t ShareOf(uint64_t total, int parts, int index) {
  const auto p = static_cast<uint64_t>(parts);
  const auto i = static_cast<uint64_t>(index);
  return total / p + (i < total % p ? 1 : 0);
}

}  // namespace

std::string SerializeRequest(const config::TestPlan& plan) {
  const config::RequestSpec& r = plan.request;
  std::string out;
  out.reserve(256 + r.body.size());
  out += r.method;
  out += ' ';
  out += r.path.empty() ? plan.target.path : r.path;
  out += " HTTP/1.1\r\n";
  std::vector<config::Header> headers = plan.custom_headers;
  headers.insert(headers.end(), r.headers.begin(), r.headers.end());
  if (!HasHeader(headers, "Host")) out += "Host: " + plan.target.HostHeader() + "\r\n";
  if (!HasHeader(headers, "User-Agent")) out += "User-Agent: volley/0.1\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  const bool wants_length =
      !r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
  if (wants_length && !HasHeader(headers, "Content-Length")) {
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  }
  out += "\r\n";
  out += r.body;
  return out;
}

Result<void> CheckScenarios(const config::TestPlan& plan) {
  if (plan.scenarios.empty()) return {};
  auto program = CompileScenarios(plan);
  if (!program) return tl::unexpected(program.error());
  return {};
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Create(const config::TestPlan& plan) {
  auto impl = std::make_unique<Impl>();
  impl->plan = plan;
  auto ep = Resolve(plan);
  if (!ep) return tl::unexpected(ep.error());
  impl->shared.endpoint = *ep;
  if (plan.target.tls()) {
    auto tls = TlsContext::Create(plan.tls, plan.target.host);
    if (!tls) return tl::unexpected(tls.error());
    impl->tls = std::move(*tls);
    impl->shared.tls = impl->tls.get();
  }
  if (!plan.scenarios.empty()) {
    auto program = CompileScenarios(plan);
    if (!program) return tl::unexpected(program.error());
    impl->program = std::move(*program);
    impl->shared.program = impl->program.get();
  }
  impl->shared.request = SerializeRequest(plan);
  impl->shared.head = plan.request.method == "HEAD";
  {
    std::vector<config::Header> headers = plan.custom_headers;
    headers.insert(headers.end(), plan.request.headers.begin(), plan.request.headers.end());
    impl->shared.replayable =
        ReplayableRequest(plan.request.method, HasHeader(headers, "Idempotency-Key") ||
                                                   HasHeader(headers, "X-Idempotency-Key"));
  }
  if (plan.load.open()) {
    auto schedule = RateSchedule::ForModel(plan.load, plan.duration);
    if (!schedule) return tl::unexpected(schedule.error());
    impl->shared.schedule = std::move(*schedule);
    impl->shared.segment = plan.segment;
  }
  impl->shared.connect_timeout = plan.connect_timeout;
  impl->shared.request_timeout = plan.request_timeout;
  impl->shared.grace = plan.grace_period;
  impl->shared.tick = std::chrono::seconds(1);
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

const std::string& Engine::request_bytes() const { return impl_->shared.request; }

void Engine::set_tick(Nanos tick) { impl_->shared.tick = tick; }

void Engine::RequestStop() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->stop_requested) return;
  impl_->stop_requested = true;
  for (auto& w : impl_->workers) w->RequestStop();
  impl_->cv.notify_all();
}

Result<RunInfo> Engine::Run(metrics::Collector& collector,
                            const std::function<void(const Progress&)>& on_tick) {
  Impl& im = *impl_;
  if (im.ran) return MakeError(ErrorCode::kInternal, "Engine::Run called twice");
  im.ran = true;
  const config::TestPlan& plan = im.plan;
  int threads = plan.threads > 0
                    ? plan.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::min(threads, plan.workers);
  RunInfo info;
  info.threads = threads;
  info.connections = plan.workers;
  info.open_model = plan.load.open();
  im.shared.threads = threads;
  const uint64_t budget = plan.max_requests > 0 ? plan.max_requests : UINT64_MAX;
  const uint64_t cap = plan.load.max_in_flight > 0 ? plan.load.max_in_flight : 10'000;
  const Nanos start = MonotonicNow();
  im.shared.start = start;
  im.shared.deadline = start + plan.duration;
  std::vector<std::thread> threads_v;
  {
    std::lock_guard<std::mutex> lock(im.mu);
    for (int i = 0; i < threads; ++i) {
      WorkerShare share;
      share.index = i;
      share.connections =
          static_cast<int>(ShareOf(static_cast<uint64_t>(plan.workers), threads, i));
      share.budget = budget == UINT64_MAX ? UINT64_MAX : ShareOf(budget, threads, i);
      share.max_in_flight = std::max<uint64_t>(1, ShareOf(cap, threads, i));
      im.workers.push_back(std::make_unique<Worker>(im.shared, share, collector));
      if (im.stop_requested) im.workers.back()->RequestStop();
    }
    im.running = threads;
    for (int i = 0; i < threads; ++i) {
      threads_v.emplace_back([&im, i] {
        im.workers[static_cast<size_t>(i)]->Run();
        std::lock_guard<std::mutex> l(im.mu);
        --im.running;
        im.cv.notify_all();
      });
    }
  }

  // The calling thread ticks the collector and reports progress until the workers end.
  Progress progress;
  progress.duration = plan.duration;
  // The collector closes each interval a little after the workers' tick grid
  // (T0 + k * tick), once their deltas for it have arrived.
  const Nanos lag = im.shared.tick / 20;
  Nanos next_tick = start + im.shared.tick + lag;
  const metrics::SeriesKey concurrent_key(names::kConcurrentRequests);
  auto tick = [&](Nanos now) {
    int64_t in_flight = 0;
    for (auto& w : im.workers) in_flight += w->in_flight();
    metrics::Snapshot gauge;
    metrics::Gauge g;
    g.Set(static_cast<double>(in_flight));
    gauge.Put(concurrent_key, g);
    collector.AddDelta(std::move(gauge));
    collector.Tick(now);
    const metrics::Interval last = collector.LastInterval();
    const double secs = static_cast<double>((last.end - last.start).count()) / 1e9;
    const double n = last.delta.SumCounter(names::kRequests);
    progress.elapsed = now - start;
    progress.interval_rps = secs > 0 ? n / secs : 0;
    progress.requests += static_cast<uint64_t>(n);
    progress.errors += static_cast<uint64_t>(last.delta.SumCounter(names::kErrors));
    const metrics::Histogram* d = last.delta.FindTrend(names::kDuration);
    progress.p95_seconds = d && d->count() > 0 ? d->Percentile(95) : 0;
    progress.in_flight = in_flight;
    if (on_tick) on_tick(progress);
  };
  {
    std::unique_lock<std::mutex> lock(im.mu);
    while (im.running > 0) {
      const auto wait = next_tick - MonotonicNow();
      im.cv.wait_for(lock, std::max(wait, Nanos(0)), [&] { return im.running == 0; });
      progress.stopping = im.stop_requested;
      const Nanos now = MonotonicNow();
      if (im.running > 0 && now >= next_tick) {
        lock.unlock();
        tick(now);
        lock.lock();
        next_tick += im.shared.tick;
        if (next_tick < now) next_tick = now + im.shared.tick;
      }
    }
  }
  for (auto& t : threads_v) t.join();
  const Nanos end = MonotonicNow();
  tick(end);
  info.elapsed = end - start;
  {
    std::lock_guard<std::mutex> lock(im.mu);
    info.interrupted = im.stop_requested;
  }
  for (auto& w : im.workers) {
    if (w->init_error()) {
      return MakeError(w->init_error()->code,
                       "a worker could not start: " + w->init_error()->message +
                           " (out of file descriptors? raise ulimit -n)");
    }
    info.abandoned += w->abandoned();
    for (size_t c = 0; c < kErrorCategoryCount; ++c) {
      const char* why = w->first_reason(c);
      if (why) info.first_errors.emplace(names::kCategories[c], why);
    }
  }
  return info;
}

}  // namespace volley::engine
