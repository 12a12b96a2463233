// A blocking HTTP/1.1 client on plain sockets for tests of volley's servers: every call has
// a deadline, so a server that hangs fails the test instead of stalling it. Also the slow
// and idle clients of the slow-client tests, and the process's descriptor and RSS counts.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace volley::fakes {

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;                            // de-chunked
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// A connection to 127.0.0.1:port. Not thread-safe.
class RawConnection {
 public:
  // Connects (blocking, up to `timeout`); ok() says whether it did.
  explicit RawConnection(uint16_t port,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~RawConnection();
  RawConnection(RawConnection&& other) noexcept;
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Writes all of `data`; false on error.
  bool Send(const std::string& data);
  // Reads one response (Content-Length, chunked, or until close); nullopt on error, close
  // before a whole response, or `timeout`. `head`: the response has no body.
  std::optional<RawResponse> Read(std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                  bool head = false);
  // True once the peer has closed (EOF or reset) within `timeout`; data read meanwhile is
  // dropped.
  bool WaitClosed(std::chrono::milliseconds timeout);
  void Close();

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline);  // reads more into buf_
  int fd_ = -1;
  std::string buf_;
};

// One request on a new connection: "GET /path HTTP/1.1" with Host and Connection: close,
// then `extra_headers` (each "Name: value"), then `body` with its Content-Length.
std::optional<RawResponse> Fetch(uint16_t port, const std::string& method, const std::string& path,
                                 const std::vector<std::string>& extra_headers = {},
                                 const std::string& body = "",
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Open descriptors of this process (/proc/self/fd).
int OpenFdCount();
// Resident set size of this process in KiB (VmRSS of /proc/self/status).
long RssKib();

// The slow-client attack of issue 17, owned by the test: `slow` connections that send a
// partial request header and then one more byte each time Trickle() is called, and `idle`
// connections that send nothing. Not thread-safe.
class SlowClients {
 public:
  SlowClients(uint16_t port, int slow, int idle);
  int connected() const { return static_cast<int>(slow_.size() + idle_.size()); }
  // One more header byte on every slow connection still open.
  void Trickle();
  // Connections (slow or idle) the server has closed so far, checked without blocking.
  int ClosedSlow();
  int ClosedIdle();

 private:
  static int Closed(std::vector<RawConnection>& conns, std::vector<bool>& closed);
  std::vector<RawConnection> slow_, idle_;
  std::vector<bool> slow_closed_, idle_closed_;
};

}  // namespace volley::fakes

namespace volley::fakes {

struct SlowAttackOptions {
  int slow = 500;  // partial header, one more byte a second
  int idle = 500;  // connected, nothing sent
  // The server's deadlines as the test configured them.
  std::chrono::milliseconds header_timeout{2000};
  std::chrono::milliseconds idle_timeout{3000};
  std::chrono::milliseconds limit{60000};  // give up after this
};

struct SlowAttackReport {
  int connected = 0;    // slow + idle connections established
  int slow_closed = 0;  // closed by the server by the end
  int idle_closed = 0;
  int early_closes = 0;     // closed before their deadline could have passed (a bug)
  int probes = 0;           // normal requests made while attack connections were open
  int probes_answered = 0;  // ... answered as the probe expects
  double probe_p50_ms = 0, probe_max_ms = 0;
  long rss_before_kib = 0, rss_peak_kib = 0, rss_after_kib = 0;
  std::string Describe() const;
};

// Opens the attack connections to 127.0.0.1:port, then until every one of them is closed
// (or options.limit passes) calls `probe` (a normal request; true when answered as it
// should be) about every 20 ms and trickles a byte on the slow connections each second.
// RSS is this process's (server and clients both, in a unit test).
SlowAttackReport RunSlowClientAttack(uint16_t port, const std::function<bool()>& probe,
                                     const SlowAttackOptions& options);

}  // namespace volley::fakes

namespace volley::fakes {

using HeaderMap = std::multimap<std::string, std::string>;
using Reply = std::optional<RawResponse>;

// A client for tests of volley's servers, shaped like the calls the tests made before
// (Get, Post, a bearer token, gzip bodies): one connection per request (Connection:
// close), a 10 s deadline. Not thread-safe; cheap to make one per thread.
class LoopbackClient {
 public:
  explicit LoopbackClient(uint16_t port) : port_(port) {}
  Reply Get(const std::string& path, const HeaderMap& headers = {});
  Reply Post(const std::string& path, const std::string& body, const std::string& type) {
    return Post(path, {}, body, type);
  }
  Reply Post(const std::string& path, const HeaderMap& headers, const std::string& body,
             const std::string& type);
  // Adds Authorization: Bearer <token> to every later request.
  void set_bearer_token_auth(const std::string& token) { token_ = token; }
  // Sends later bodies gzip-compressed, with Content-Encoding: gzip.
  void set_compress(bool on) { gzip_ = on; }
  void set_timeout(std::chrono::milliseconds t) { timeout_ = t; }

 private:
  Reply Send(const std::string& method, const std::string& path, HeaderMap headers,
             const std::string& body);
  uint16_t port_;
  std::string token_;
  bool gzip_ = false;
  std::chrono::milliseconds timeout_{10000};
};

// `data` as one gzip member (zlib).
std::string Gzip(const std::string& data);

}  // namespace volley::fakes
