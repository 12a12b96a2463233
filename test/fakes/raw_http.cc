#include "fakes/raw_http.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace volley::fakes {
namespace {

using Clock = std::chrono::steady_clock;

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int MsLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

RawConnection::RawConnection(uint16_t port, std::chrono::milliseconds timeout) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (poll(&p, 1, static_cast<int>(timeout.count())) == 1 &&
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
      rc = 0;
    }
  }
  if (rc != 0) {
    close(fd);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fd_ = fd;
}

RawConnection::~RawConnection() { Close(); }

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(other.fd_), buf_(std::move(other.buf_)) {
  other.fd_ = -1;
}

void RawConnection::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

bool RawConnection::Send(const std::string& data) {
  size_t off = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (fd_ >= 0 && off < data.size()) {
    const ssize_t n = send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd p{fd_, POLLOUT, 0};
      if (poll(&p, 1, MsLeft(deadline)) <= 0) return false;
    } else {
      return false;
    }
  }
  return fd_ >= 0;
}

bool RawConnection::Fill(Clock::time_point deadline) {
  for (;;) {
    char tmp[16384];
    const ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      return true;
    }
    if (n == 0) return false;
    if (errno != EAGAIN && errno != EINTR) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, MsLeft(deadline)) <= 0) return false;
  }
}

std::optional<RawResponse> RawConnection::Read(std::chrono::milliseconds timeout, bool head) {
  if (fd_ < 0) return std::nullopt;
  const auto deadline = Clock::now() + timeout;
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill(deadline)) return std::nullopt;
  }
  RawResponse r;
  const std::string head_text = buf_.substr(0, end);
  buf_.erase(0, end + 4);
  size_t line_end = head_text.find("\r\n");
  const std::string status_line = head_text.substr(0, line_end);
  if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) return std::nullopt;
  r.status = std::atoi(status_line.c_str() + 9);
  while (line_end != std::string::npos) {
    const size_t start = line_end + 2;
    line_end = head_text.find("\r\n", start);
    const std::string line = head_text.substr(start, line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[Lower(line.substr(0, colon))] = value;
  }
  if (head || r.status == 204 || r.status == 304 || r.status / 100 == 1) return r;
  if (Lower(r.Header("transfer-encoding")).find("chunked") != std::string::npos) {
    for (;;) {
      size_t crlf;
      while ((crlf = buf_.find("\r\n")) == std::string::npos) {
        if (!Fill(deadline)) return std::nullopt;
      }
      const size_t size = std::strtoul(buf_.c_str(), nullptr, 16);
      while (buf_.size() < crlf + 2 + size + 2) {
        if (!Fill(deadline)) return std::nullopt;
      }
      r.body.append(buf_, crlf + 2, size);
      buf_.erase(0, crlf + 2 + size + 2);
      if (size == 0) return r;
    }
  }
  if (r.headers.count("content-length")) {
    const size_t want = std::strtoul(r.Header("content-length").c_str(), nullptr, 10);
    while (buf_.size() < want) {
      if (!Fill(deadline)) return std::nullopt;
    }
    r.body = buf_.substr(0, want);
    buf_.erase(0, want);
    return r;
  }
  while (Fill(deadline)) {
  }
  r.body = std::move(buf_);
  buf_.clear();
  return r;
}

bool RawConnection::WaitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (fd_ >= 0) {
    char tmp[4096];
    const ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n == 0) return true;
    if (n < 0 && errno != EAGAIN && errno != EINTR) return true;
    if (n > 0) continue;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, MsLeft(deadline)) <= 0) return false;
  }
  return true;
}

std::optional<RawResponse> Fetch(uint16_t port, const std::string& method, const std::string& path,
                                 const std::vector<std::string>& extra_headers,
                                 const std::string& body, std::chrono::milliseconds timeout) {
  RawConnection c(port, timeout);
  if (!c.ok()) return std::nullopt;
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& h : extra_headers) req += h + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  if (!c.Send(req)) return std::nullopt;
  return c.Read(timeout, method == "HEAD");
}

int OpenFdCount() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  if (!d) return -1;
  while (readdir(d)) ++n;
  closedir(d);
  return n - 3;  // ".", ".." and the directory's own descriptor
}

long RssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

SlowClients::SlowClients(uint16_t port, int slow, int idle) {
  for (int i = 0; i < slow; ++i) {
    RawConnection c(port);
    if (!c.ok()) break;
    c.Send("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    slow_.push_back(std::move(c));
  }
  for (int i = 0; i < idle; ++i) {
    RawConnection c(port);
    if (!c.ok()) break;
    idle_.push_back(std::move(c));
  }
  slow_closed_.assign(slow_.size(), false);
  idle_closed_.assign(idle_.size(), false);
}

void SlowClients::Trickle() {
  for (size_t i = 0; i < slow_.size(); ++i) {
    if (!slow_closed_[i]) slow_[i].Send("a");
  }
}

int SlowClients::Closed(std::vector<RawConnection>& conns, std::vector<bool>& closed) {
  int n = 0;
  for (size_t i = 0; i < conns.size(); ++i) {
    if (!closed[i] && conns[i].WaitClosed(std::chrono::milliseconds(0))) closed[i] = true;
    n += closed[i] ? 1 : 0;
  }
  return n;
}

int SlowClients::ClosedSlow() { return Closed(slow_, slow_closed_); }
int SlowClients::ClosedIdle() { return Closed(idle_, idle_closed_); }

}  // namespace volley::fakes

namespace volley::fakes {

std::string SlowAttackReport::Describe() const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "attack: %d connected, closed %d slow + %d idle (%d early); probes %d/%d "
                "answered, p50 %.2f ms, max %.2f ms; RSS %ld KiB before, %ld peak, %ld after",
                connected, slow_closed, idle_closed, early_closes, probes_answered, probes,
                probe_p50_ms, probe_max_ms, rss_before_kib, rss_peak_kib, rss_after_kib);
  return buf;
}

SlowAttackReport RunSlowClientAttack(uint16_t port, const std::function<bool()>& probe,
                                     const SlowAttackOptions& options) {
  SlowAttackReport report;
  report.rss_before_kib = RssKib();
  const auto t0 = Clock::now();
  SlowClients clients(port, options.slow, options.idle);
  report.connected = clients.connected();
  std::vector<double> latencies;
  auto next_trickle = Clock::now() + std::chrono::seconds(1);
  const auto give_up = t0 + options.limit;
  while (Clock::now() < give_up) {
    const int slow_closed = clients.ClosedSlow();
    const int idle_closed = clients.ClosedIdle();
    const auto since = Clock::now() - t0;
    // A close seen before the deadline counted from t0 (earlier than any first byte) is early.
    if (since < options.header_timeout) report.early_closes = slow_closed;
    if (since < options.idle_timeout) report.early_closes += idle_closed;
    report.slow_closed = slow_closed;
    report.idle_closed = idle_closed;
    if (slow_closed + idle_closed >= report.connected) break;
    const auto start = Clock::now();
    const bool ok = probe();
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    ++report.probes;
    report.probes_answered += ok ? 1 : 0;
    report.rss_peak_kib = std::max(report.rss_peak_kib, RssKib());
    if (Clock::now() >= next_trickle) {
      clients.Trickle();
      next_trickle += std::chrono::seconds(1);
    }
    poll(nullptr, 0, 20);  // pacing of the probes, not a wait for a condition
  }
  std::sort(latencies.begin(), latencies.end());
  if (!latencies.empty()) {
    report.probe_p50_ms = latencies[latencies.size() / 2];
    report.probe_max_ms = latencies.back();
  }
  report.rss_after_kib = RssKib();
  return report;
}

}  // namespace volley::fakes

#include <zlib.h>

namespace volley::fakes {

std::string Gzip(const std::string& data) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

Reply LoopbackClient::Get(const std::string& path, const HeaderMap& headers) {
  return Send("GET", path, headers, "");
}

Reply LoopbackClient::Post(const std::string& path, const HeaderMap& headers,
                           const std::string& body, const std::string& type) {
  HeaderMap h = headers;
  if (!type.empty()) h.emplace("Content-Type", type);
  if (gzip_) h.emplace("Content-Encoding", "gzip");
  return Send("POST", path, std::move(h), gzip_ ? Gzip(body) : body);
}

Reply LoopbackClient::Send(const std::string& method, const std::string& path, HeaderMap headers,
                           const std::string& body) {
  if (!token_.empty()) headers.emplace("Authorization", "Bearer " + token_);
  std::vector<std::string> lines;
  for (const auto& [k, v] : headers) lines.push_back(k + ": " + v);
  return Fetch(port_, method, path, lines, body, timeout_);
}

}  // namespace volley::fakes
