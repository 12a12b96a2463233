#include "volley/output/metrics_server.h"

#include <cerrno>
#include <cstring>
#include <exception>
#include <utility>

#include "volley/common/listen_address.h"

namespace volley::output {
namespace {

constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string HostPort(const ListenAddress& a) {
  const bool v6 = a.host.find(':') != std::string::npos;
  return (v6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
}

Error BindError(const ListenAddress& a, int err) {
  const std::string where = "metrics address " + HostPort(a) + ": ";
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

MetricsServer::MetricsServer(RenderFn render) : render_(std::move(render)) {}

MetricsServer::~MetricsServer() { Stop(); }

http::ServerOptions MetricsServer::DefaultHttpOptions() {
  http::ServerOptions o;
  o.name = "metrics";
  o.idle_timeout = std::chrono::seconds(2);  // a connection that sends nothing
  o.header_timeout = std::chrono::seconds(5);
  o.body_timeout = std::chrono::seconds(5);
  o.write_timeout = std::chrono::seconds(5);
  o.max_header_bytes = 8 * 1024;
  o.max_body_bytes = 4096;  // a scrape has no body
  o.keep_alive = false;     // every answer closes its connection
  o.worker_threads = 2;     // scrapes are rare and render is serialised
  o.blocking_threads = 1;
  return o;
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& addr,
                                                            RenderFn render) {
  return Start(addr, std::move(render), DefaultHttpOptions());
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& addr,
                                                            RenderFn render,
                                                            http::ServerOptions options) {
  auto parsed = ParseListenAddress(addr);
  if (!parsed) {
    return MakeError(ErrorCode::kInvalidArgument, "--metrics-addr: " + parsed.error().message);
  }
  if (!render) return MakeError(ErrorCode::kInvalidArgument, "MetricsServer: no render callback");
  std::unique_ptr<MetricsServer> self(new MetricsServer(std::move(render)));
  MetricsServer* raw = self.get();
  http::Router router;
  router.Handle("GET", "/metrics", [raw](const http::Request&, http::Response& res) {
    int status = 200;
    raw->Serve(&res.body, &status);
    res.status = status;
    res.content_type = status == 200 ? kContentType : "text/plain";
  });
  router.SetNotFound([](const http::Request&, http::Response& res) {
    res.status = 404;
    res.body = "not found: the metrics are on GET /metrics\n";
  });
  int err = 0;
  auto server = http::HttpServer::Start(*parsed, std::move(options), std::move(router), &err);
  if (!server) {
    if (server.error().code == ErrorCode::kIo) return tl::unexpected(BindError(*parsed, err));
    return tl::unexpected(server.error());
  }
  self->server_ = std::move(*server);
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
  if (server_) server_->Stop();
}

}  // namespace volley::output
