#include "fakes/scripted_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <random>
#include <string_view>

namespace volley::fakes {
namespace {

std::string MakeHugeHeaders() {
  std::string s = "HTTP/1.1 200 OK\r\nX-Pad-1: ";
  s.append(40 * 1024, 'a');
  s += "\r\nX-Pad-2: ";
  s.append(40 * 1024, 'b');
  s += "\r\nContent-Length: 0\r\n\r\n";
  return s;
}

void CloseFd(int fd) {
  if (fd >= 0) close(fd);
}

// close() then sends RST instead of FIN.
void ResetOnClose(int fd) {
  linger lg{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

using SteadyTime = std::chrono::steady_clock::time_point;

}  // namespace

const char* BehaviourName(Behaviour b) {
  switch (b) {
    case Behaviour::kGarbage:
      return "garbage";
    case Behaviour::kHugeHeaders:
      return "huge_headers";
    case Behaviour::kShortBody:
      return "short_body";
    case Behaviour::kResetMidResponse:
      return "reset_mid_response";
    case Behaviour::kNeverAnswer:
      return "never_answer";
    case Behaviour::kBadChunk:
      return "bad_chunk";
    case Behaviour::kConnectionClose:
      return "connection_close";
    case Behaviour::kChunked:
      return "chunked";
    case Behaviour::kKeepAliveThenClose:
      return "keep_alive_then_close";
    case Behaviour::kResetAfterRead:
      return "reset_after_read";
    case Behaviour::kResetOnNextRequest:
      return "reset_on_next_request";
    case Behaviour::kCloseIdleAtRandom:
      return "close_idle_at_random";
  }
  return "?";
}

const std::string& ResponseBytes(Behaviour b) {
  static const std::string kGarbage = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
  static const std::string kHuge = MakeHugeHeaders();
  static const std::string kShort = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
  static const std::string kReset =
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(50, 'x');
  static const std::string kNone;
  static const std::string kBadChunk =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
  static const std::string kClose =
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
  static const std::string kKeepAlive = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  static const std::string kChunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
  switch (b) {
    case Behaviour::kGarbage:
      return kGarbage;
    case Behaviour::kHugeHeaders:
      return kHuge;
    case Behaviour::kShortBody:
      return kShort;
    case Behaviour::kResetMidResponse:
      return kReset;
    case Behaviour::kNeverAnswer:
      return kNone;
    case Behaviour::kBadChunk:
      return kBadChunk;
    case Behaviour::kConnectionClose:
      return kClose;
    case Behaviour::kChunked:
      return kChunked;
    case Behaviour::kKeepAliveThenClose:
    case Behaviour::kResetOnNextRequest:
    case Behaviour::kCloseIdleAtRandom:
      return kKeepAlive;
    case Behaviour::kResetAfterRead:
      return kNone;
  }
  return kNone;
}

// One accepted connection. Confined to the serving thread.
struct ScriptedServer::Conn {
  enum class Phase : uint8_t {
    kReading,   // reading a request head into `in`
    kWriting,   // sending `out` from `out_off`
    kDraining,  // answered (or never will): discard input until the peer closes
  };
  int fd = -1;
  Phase phase = Phase::kReading;
  Behaviour behaviour = Behaviour::kChunked;
  std::string in;
  std::string_view out;
  size_t out_off = 0;
  bool reset_on_data = false;          // kResetOnNextRequest, after the answer
  std::optional<SteadyTime> close_at;  // kCloseIdleAtRandom, after the answer
};

Result<std::unique_ptr<ScriptedServer>> ScriptedServer::Start(ScriptedServerOptions options) {
  if (options.script.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "ScriptedServer: the script is empty");
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return tl::unexpected(ErrnoError("ScriptedServer: socket", errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 128) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    close(fd);
    return tl::unexpected(ErrnoError("ScriptedServer: bind/listen on 127.0.0.1:0", err));
  }
  int wake[2];
  if (pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0) {
    const int err = errno;
    close(fd);
    return tl::unexpected(ErrnoError("ScriptedServer: pipe2", err));
  }
  std::unique_ptr<ScriptedServer> server(
      new ScriptedServer(std::move(options), fd, wake[0], wake[1], ntohs(addr.sin_port)));
  server->thread_ = std::thread([s = server.get()] { s->Loop(); });
  return server;
}

ScriptedServer::ScriptedServer(ScriptedServerOptions options, int listen_fd, int wake_read,
                               int wake_write, uint16_t port)
    : options_(std::move(options)),
      wake_read_(wake_read),
      wake_write_(wake_write),
      port_(port),
      listen_fd_(listen_fd) {}

ScriptedServer::~ScriptedServer() { Stop(); }

void ScriptedServer::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_release);
  const char byte = 'x';
  [[maybe_unused]] ssize_t n = write(wake_write_, &byte, 1);
  thread_.join();
  // Handshakes the kernel completed are connections the client made: count them too.
  AcceptAll();
  for (auto& c : conns_) CloseFd(c->fd);
  conns_.clear();
  CloseFd(listen_fd_);
  CloseFd(wake_read_);
  CloseFd(wake_write_);
}

void ScriptedServer::AcceptAll() {
  while (listen_fd_ >= 0) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN: the queue is empty (other errors: nothing more to accept now)
    }
    connections_.fetch_add(1, std::memory_order_acq_rel);
    if (stop_.load(std::memory_order_acquire)) {
      close(fd);
      continue;
    }
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    conns_.push_back(std::move(c));
  }
}

void ScriptedServer::Loop() {
  std::vector<pollfd> fds;
  std::mt19937_64 rng(options_.seed);
  while (!stop_.load(std::memory_order_acquire)) {
    // Connections that wait to be closed at a random moment: draw their moments, and wake
    // up for the first one.
    int timeout_ms = -1;
    const SteadyTime now = std::chrono::steady_clock::now();
    for (auto& c : conns_) {
      if (c->behaviour != Behaviour::kCloseIdleAtRandom || c->phase != Conn::Phase::kReading ||
          !c->close_at) {
        continue;
      }
      if (*c->close_at == SteadyTime{}) {  // answered just now: draw its idle time
        std::uniform_int_distribution<int64_t> idle(0, options_.max_idle.count());
        c->close_at = now + std::chrono::microseconds(idle(rng));
      }
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*c->close_at - now);
      const int ms = static_cast<int>(std::max<int64_t>(0, left.count()));
      timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
    }
    fds.clear();
    fds.push_back({wake_read_, POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});  // poll() ignores a negative fd
    for (auto& c : conns_) {
      fds.push_back(
          {c->fd, static_cast<short>(c->phase == Conn::Phase::kWriting ? POLLOUT : POLLIN), 0});
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents != 0) return;  // Stop()
    // Only the connections polled above; AcceptAll() appends after them.
    const size_t polled = fds.size() - 2;
    for (size_t i = 0; i < polled; ++i) {
      const short ev = fds[i + 2].revents;
      if (ev == 0) continue;
      Conn& c = *conns_[i];
      const bool keep = c.phase == Conn::Phase::kWriting ? OnWritable(c) : OnReadable(c);
      if (!keep) {
        CloseFd(c.fd);
        c.fd = -1;
      }
    }
    // Idle connections whose moment came, the next request head not (fully) read: closed,
    // unread bytes and all (the kernel then resets the connection).
    const SteadyTime after = std::chrono::steady_clock::now();
    for (auto& c : conns_) {
      if (c->fd >= 0 && c->phase == Conn::Phase::kReading && c->close_at &&
          *c->close_at != SteadyTime{} && *c->close_at <= after) {
        CloseFd(c->fd);
        c->fd = -1;
      }
    }
    conns_.erase(std::remove_if(conns_.begin(), conns_.end(), [](auto& c) { return c->fd < 0; }),
                 conns_.end());
    if (fds[1].revents != 0 && listen_fd_ >= 0) AcceptAll();
  }
}

std::vector<std::string> ScriptedServer::request_lines() const {
  std::lock_guard<std::mutex> lock(lines_mu_);
  return lines_;
}

bool ScriptedServer::OnReadable(Conn& c) {
  char buf[16 * 1024];
  for (;;) {
    ssize_t n = recv(c.fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) return false;  // EOF or error: the peer is gone
    if (c.phase == Conn::Phase::kDraining) continue;
    if (c.reset_on_data) {  // the next request began: reset without reading it
      stale_resets_.fetch_add(1, std::memory_order_acq_rel);
      ResetOnClose(c.fd);
      return false;
    }
    const size_t old = c.in.size();
    c.in.append(buf, static_cast<size_t>(n));
    // Look for the blank line from just before the new bytes (it may straddle reads).
    const size_t from = old >= 3 ? old - 3 : 0;
    if (c.in.find("\r\n\r\n", from) == std::string::npos) {
      if (c.in.size() > kMaxRequestBytes) return false;  // no head within the bound
      continue;
    }
    return Answer(c);
  }
}

bool ScriptedServer::Answer(Conn& c) {
  const size_t end = c.in.find("\r\n\r\n");
  if (end == std::string::npos || end + 4 > kMaxRequestBytes) return false;
  {
    std::lock_guard<std::mutex> lock(lines_mu_);
    lines_.push_back(c.in.substr(0, std::min(c.in.find("\r\n"), end)));
  }
  c.in.erase(0, end + 4);  // anything left is the start of a pipelined request
  const uint64_t n = requests_.fetch_add(1, std::memory_order_acq_rel);
  if (options_.stop_listening_after > 0 && n + 1 >= options_.stop_listening_after &&
      listen_fd_ >= 0) {
    close(listen_fd_);  // connects from now on are refused
    listen_fd_ = -1;
  }
  c.behaviour = options_.script[n % options_.script.size()];
  c.close_at.reset();
  if (c.behaviour == Behaviour::kResetAfterRead) {
    ResetOnClose(c.fd);
    return false;
  }
  c.out = ResponseBytes(c.behaviour);
  c.out_off = 0;
  if (c.out.empty()) {  // kNeverAnswer: hold the socket
    c.phase = Conn::Phase::kDraining;
    return true;
  }
  c.phase = Conn::Phase::kWriting;
  return OnWritable(c);
}

bool ScriptedServer::OnWritable(Conn& c) {
  while (c.out_off < c.out.size()) {
    ssize_t n = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;  // wait for POLLOUT
    if (n < 0) return false;  // the peer reset (e.g. it rejected the header block)
    c.out_off += static_cast<size_t>(n);
  }
  return AfterSent(c);
}

bool ScriptedServer::AfterSent(Conn& c) {
  switch (c.behaviour) {
    case Behaviour::kResetMidResponse:
      ResetOnClose(c.fd);
      return false;
    case Behaviour::kResetOnNextRequest:
      c.phase = Conn::Phase::kReading;
      c.reset_on_data = true;
      return true;
    case Behaviour::kCloseIdleAtRandom:
      c.phase = Conn::Phase::kReading;
      c.close_at = SteadyTime{};  // the loop draws the moment
      if (c.in.find("\r\n\r\n") != std::string::npos) return Answer(c);
      return true;
    case Behaviour::kShortBody:
    case Behaviour::kConnectionClose:
    case Behaviour::kKeepAliveThenClose:
      // FIN now; closing only once the peer did avoids an RST if it sends anything more.
      shutdown(c.fd, SHUT_WR);
      c.phase = Conn::Phase::kDraining;
      return true;
    case Behaviour::kChunked:
      c.phase = Conn::Phase::kReading;
      if (c.in.find("\r\n\r\n") != std::string::npos) return Answer(c);
      return true;
    case Behaviour::kGarbage:
    case Behaviour::kHugeHeaders:
    case Behaviour::kNeverAnswer:
    case Behaviour::kBadChunk:
    case Behaviour::kResetAfterRead:
      c.phase = Conn::Phase::kDraining;
      return true;
  }
  return false;
}

}  // namespace volley::fakes
