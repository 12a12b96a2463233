// Test support for the target: a blocking HTTP/1.1 client (plain sockets, with a receive
// timeout so that a broken server fails a test instead of hanging it) and a server starter.
// Test code only.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "volley/target/target_server.h"

namespace volley::target::testing {

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  size_t raw_size = 0;  // bytes of status line, headers and body
  bool Has(const std::string& name) const { return headers.count(name) > 0; }
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

enum class StreamEnd { kEof, kReset, kTimeout };

class TestClient {
 public:
  // Connects to 127.0.0.1:port; nullptr on failure (errno kept).
  static std::unique_ptr<TestClient> Connect(uint16_t port, int timeout_ms = 5000) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return nullptr;
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      const int err = errno;
      ::close(fd);
      errno = err;
      return nullptr;
    }
    return std::unique_ptr<TestClient>(new TestClient(fd));
  }

  ~TestClient() {
    if (fd_ >= 0) ::close(fd_);
  }

  int fd() const { return fd_; }

  // Sends all of `bytes`; false on error.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads one response (a 1xx one too). `head_request`: the response has no body.
  // nullopt on timeout, EOF or an unparsable response.
  std::optional<HttpResponse> Read(bool head_request = false) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return std::nullopt;
    }
    HttpResponse r;
    const std::string head = buf_.substr(0, end + 2);
    if (head.compare(0, 9, "HTTP/1.1 ") != 0 || head.size() < 12) return std::nullopt;
    r.status = std::stoi(head.substr(9, 3));
    size_t pos = head.find("\r\n") + 2;
    while (pos < head.size()) {
      const size_t eol = head.find("\r\n", pos);
      const std::string line = head.substr(pos, eol - pos);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) return std::nullopt;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      r.headers[name] = line.substr(v);
      pos = eol + 2;
    }
    size_t body_size = 0;
    if (!head_request && r.status >= 200 && r.Has("content-length")) {
      body_size = std::stoul(r.Header("content-length"));
    }
    const size_t total = end + 4 + body_size;
    while (buf_.size() < total) {
      if (!Fill()) return std::nullopt;
    }
    r.body = buf_.substr(end + 4, body_size);
    r.raw_size = total;
    buf_.erase(0, total);
    return r;
  }

  // Reads until the peer closes; `*rest` gets whatever arrived before that.
  StreamEnd ReadToEnd(std::string* rest = nullptr) {
    for (;;) {
      char chunk[16384];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        buf_.append(chunk, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (rest != nullptr) *rest = buf_;
      if (n == 0) return StreamEnd::kEof;
      return (errno == EAGAIN || errno == EWOULDBLOCK) ? StreamEnd::kTimeout : StreamEnd::kReset;
    }
  }

  // Bytes received but not yet returned by Read().
  const std::string& buffered() const { return buf_; }

 private:
  explicit TestClient(int fd) : fd_(fd) {}

  bool Fill() {
    char chunk[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buf_.append(chunk, static_cast<size_t>(n));
      return true;
    }
  }

  int fd_;
  std::string buf_;
};

inline std::string Get(std::string_view path = "/", std::string_view extra_headers = {}) {
  std::string r = "GET ";
  r += path;
  r += " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  r += extra_headers;
  r += "\r\n";
  return r;
}

// Starts a server on 127.0.0.1 with an ephemeral port and, unless `options` says otherwise,
// one thread (so that the status rotation is one sequence). nullptr (and a test failure) if
// it cannot start.
inline std::unique_ptr<TargetServer> StartServer(TargetOptions options = {}) {
  options.listen = "127.0.0.1:0";
  if (options.threads == 0) options.threads = 1;
  auto server = TargetServer::Start(options);
  EXPECT_TRUE(server.has_value()) << (server ? "" : server.error().message);
  return server ? std::move(*server) : nullptr;
}

inline std::unique_ptr<TestClient> MustConnect(const TargetServer& server) {
  auto client = TestClient::Connect(server.port());
  EXPECT_NE(client, nullptr) << "connect to port " << server.port() << " failed";
  return client;
}

}  // namespace volley::target::testing
