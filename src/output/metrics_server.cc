#include "volley/output/metrics_server.h"

#include <httplib.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <system_error>
#include <utility>

#include "volley/common/listen_address.h"

namespace volley::output {
namespace {

constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr size_t kThreads = 2;               // scrapes are rare and render is serialised
constexpr size_t kMaxPayload = 4096;         // a scrape has no body
constexpr time_t kFirstRequestTimeoutS = 2;  // a connection that sends nothing
constexpr time_t kReadWriteTimeoutS = 5;     // a stalled peer

std::string HostPort(const ListenAddress& a) {
  const bool v6 = a.host.find(':') != std::string::npos;
  return (v6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
}

// cpp-httplib does not say why a bind failed; a probe socket with the same options does.
// Returns the errno of bind(), or 0 if the probe could bind (the failure was elsewhere).
int ProbeBindErrno(const ListenAddress& a) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE;
  addrinfo* res = nullptr;
  if (getaddrinfo(a.host.c_str(), std::to_string(a.port).c_str(), &hints, &res) != 0 || !res) {
    return EADDRNOTAVAIL;
  }
  int err = 0;
  const int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
  if (fd < 0) {
    err = errno;
  } else {
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (bind(fd, res->ai_addr, res->ai_addrlen) != 0) err = errno;
    close(fd);
  }
  freeaddrinfo(res);
  return err;
}

Error BindError(const ListenAddress& a) {
  const std::string where = "metrics address " + HostPort(a) + ": ";
  const int err = ProbeBindErrno(a);
  std::string why;
  switch (err) {
    case EADDRINUSE:
      why =
          "address in use (another volley or exporter listens there): pass --metrics-addr (or "
          "METRICS_ADDR) with another port, e.g. 127.0.0.1:0 for any free one";
      break;
    case EACCES:
      why =
          "permission denied (ports below 1024 need privileges): pass --metrics-addr with a "
          "port of 1024 or more";
      break;
    case EADDRNOTAVAIL:
      why =
          "not an address of this host: pass --metrics-addr 0.0.0.0:PORT (all interfaces) or "
          "a local address";
      break;
    case 0:
      why = "cannot listen: pass --metrics-addr with another address or port";
      break;
    default:
      why = std::string("cannot bind: ") + std::strerror(err) +
            "; pass --metrics-addr with another address or port";
  }
  return Error{ErrorCode::kIo, where + why};
}

}  // namespace

MetricsServer::MetricsServer(RenderFn render)
    : render_(std::move(render)), server_(std::make_unique<httplib::Server>()) {}

MetricsServer::~MetricsServer() { Stop(); }

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& addr,
                                                            RenderFn render) {
  auto parsed = ParseListenAddress(addr);
  if (!parsed) {
    return MakeError(ErrorCode::kInvalidArgument, "--metrics-addr: " + parsed.error().message);
  }
  if (!render) return MakeError(ErrorCode::kInvalidArgument, "MetricsServer: no render callback");
  std::unique_ptr<MetricsServer> self(new MetricsServer(std::move(render)));
  httplib::Server& svr = *self->server_;
  svr.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
  // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, which would let two
  // processes share the port and split the scrapes between them.
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  svr.set_keep_alive_max_count(1);  // every answer closes its connection
  svr.set_keep_alive_timeout(kFirstRequestTimeoutS);
  svr.set_read_timeout(kReadWriteTimeoutS, 0);
  svr.set_write_timeout(kReadWriteTimeoutS, 0);
  svr.set_payload_max_length(kMaxPayload);
  MetricsServer* raw = self.get();
  svr.Get("/metrics", [raw](const httplib::Request&, httplib::Response& res) {
    std::string body;
    int status = 200;
    raw->Serve(&body, &status);
    res.status = status;
    res.set_content(std::move(body), status == 200 ? kContentType : "text/plain");
  });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty() && res.status == 404) {
      res.set_content("not found: the metrics are on GET /metrics\n", "text/plain");
    }
  });

  if (parsed->port == 0) {
    const int port = svr.bind_to_any_port(parsed->host);
    if (port <= 0) return tl::unexpected(BindError(*parsed));
    self->port_ = static_cast<uint16_t>(port);
  } else {
    if (!svr.bind_to_port(parsed->host, parsed->port)) {
      return tl::unexpected(BindError(*parsed));
    }
    self->port_ = parsed->port;
  }
  self->host_ = parsed->host;
  // The socket listens from here on (connections wait in its backlog); the accept loop
  // runs on the thread. `loop_done` is set once that loop has ended, so the wait below
  // also ends if the loop gave up at once.
  auto loop_done = std::make_shared<std::atomic<bool>>(false);
  try {
    self->thread_ = std::thread([raw, loop_done] {
      raw->server_->listen_after_bind();
      loop_done->store(true);
    });
  } catch (const std::system_error& e) {
    return MakeError(ErrorCode::kInternal,
                     std::string("metrics server: cannot start a thread: ") + e.what());
  }
  // httplib's stop() does nothing until the accept loop has marked itself running, so a
  // Stop() right after Start() could otherwise leave the thread listening forever. The wait
  // is the few microseconds the new thread takes to get there.
  while (!svr.is_running() && !loop_done->load()) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  if (loop_done->load()) {
    return MakeError(ErrorCode::kInternal,
                     "metrics server on " + HostPort(*parsed) + ": the accept loop ended at once");
  }
  return self;
}

void MetricsServer::Serve(std::string* body, int* status) {
  std::lock_guard<std::mutex> render_lock(render_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++scrapes_;
  }
  cv_.notify_all();
  try {
    *body = render_();
  } catch (const std::exception& e) {
    *status = 500;
    *body = std::string("rendering the metrics failed: ") + e.what() + "\n";
  } catch (...) {
    *status = 500;
    *body = "rendering the metrics failed\n";
  }
}

uint64_t MetricsServer::scrapes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return scrapes_;
}

bool MetricsServer::WaitForScrapeAfter(uint64_t n, Nanos timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return scrapes_ > n || stopped_; });
  return scrapes_ > n;
}

void MetricsServer::Stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
  if (joined_) return;
  joined_ = true;
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace volley::output
