#include "volley/target/target_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <system_error>

#include "worker.h"

namespace volley::target {
namespace {

std::string HostPort(const std::string& host, uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// A bound, listening, non-blocking SO_REUSEPORT socket on host:port.
Result<int> OpenListener(const ListenAddress& address, uint16_t port) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (address.host.find(':') != std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    inet_pton(AF_INET6, address.host.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    inet_pton(AF_INET, address.host.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  const std::string where = "target: cannot listen on " + HostPort(address.host, port) + ": ";
  const int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return tl::unexpected(ErrnoError(where + "socket", errno));
  const int one = 1;
  const char* step = nullptr;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    step = "SO_REUSEADDR";
  } else if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    step = "SO_REUSEPORT";
  } else if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    step = "bind";
  } else if (listen(fd, SOMAXCONN) != 0) {
    step = "listen";
  }
  if (step != nullptr) {
    const int err = errno;
    ::close(fd);
    return tl::unexpected(ErrnoError(where + step, err));
  }
  return fd;
}

uint16_t BoundPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

uint64_t Minus(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

}  // namespace

TargetServer::TargetServer() : baseline_(std::make_unique<CounterTotals>()) {}

TargetServer::~TargetServer() { Stop(); }

Result<std::unique_ptr<TargetServer>> TargetServer::Start(const TargetOptions& options) {
  if (auto ok = ValidateTargetOptions(options); !ok) return tl::unexpected(ok.error());
  const ListenAddress address = *ParseListenAddress(options.listen);
  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<int> codes;
  for (const StatusWeight& sw : options.status_mix) codes.push_back(sw.code);
  if (codes.empty()) codes.push_back(200);

  std::unique_ptr<TargetServer> server(new TargetServer());
  server->shared_ = std::make_unique<target::SharedState>(options, codes);
  target::SharedState& shared = *server->shared_;
  shared.timed = options.latency_max.count() > 0 || options.stall_period.count() > 0;
  TargetServer* self = server.get();
  shared.stats_json = [self] { return self->StatsJson(); };
  shared.reset_stats = [self] { self->ResetStats(); };
  server->host_ = address.host;
  server->port_ = address.port;

  for (int i = 0; i < threads; ++i) {
    auto fd = OpenListener(address, server->port_);
    if (!fd) return tl::unexpected(fd.error());  // ~TargetServer closes the others
    if (i == 0) server->port_ = BoundPort(*fd);
    server->workers_.push_back(
        std::make_unique<target::Worker>(shared, *fd, 0x5eed0000ULL + static_cast<uint64_t>(i)));
    if (auto ok = server->workers_.back()->Init(); !ok) return tl::unexpected(ok.error());
  }

  server->start_time_ = MonotonicNow();
  shared.start_time = server->start_time_;
  std::lock_guard<std::mutex> lock(server->stop_mu_);
  for (size_t i = 0; i < server->workers_.size(); ++i) {
    target::Worker* worker = server->workers_[i].get();
    try {
      server->threads_.emplace_back([worker, i] {
        const std::string name = "vtarget-" + std::to_string(i);
        pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
        worker->Run();
      });
    } catch (const std::system_error& e) {
      return MakeError(ErrorCode::kInternal, std::string("target: cannot start a thread: ") +
                                                 e.what());  // ~TargetServer joins the rest
    }
  }
  return server;
}

void TargetServer::Stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  for (auto& w : workers_) w->Stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  for (auto& w : workers_) w->CloseAll();
}

CounterTotals TargetServer::SumCounters() const {
  CounterTotals totals;
  for (const auto& w : workers_) w->ReadCounters(&totals);
  return totals;
}

TargetStats TargetServer::Stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  const CounterTotals now = SumCounters();
  const CounterTotals& base = *baseline_;
  TargetStats s;
  s.requests = Minus(now.requests, base.requests);
  s.responses = Minus(now.responses, base.responses);
  s.connections = Minus(now.connections, base.connections);
  s.bytes_sent = Minus(now.bytes_sent, base.bytes_sent);
  for (size_t code = 0; code < target::kStatusSlots; ++code) {
    const uint64_t n = Minus(now.by_status[code], base.by_status[code]);
    if (n > 0) s.by_status[static_cast<int>(code)] = n;
  }
  s.uptime = MonotonicNow() - start_time_;
  return s;
}

std::string TargetServer::StatsJson() const {
  const TargetStats s = Stats();
  nlohmann::ordered_json j;
  j["requests"] = s.requests;
  j["responses"] = s.responses;
  nlohmann::ordered_json by_status = nlohmann::ordered_json::object();
  for (const auto& [code, n] : s.by_status) by_status[std::to_string(code)] = n;
  j["by_status"] = std::move(by_status);
  j["connections"] = s.connections;
  j["bytes_sent"] = s.bytes_sent;
  j["uptime_s"] = static_cast<double>(s.uptime.count()) / 1e9;
  return j.dump();
}

void TargetServer::ResetStats() {
  std::lock_guard<std::mutex> lock(stats_mu_);
  *baseline_ = SumCounters();
}

}  // namespace volley::target
