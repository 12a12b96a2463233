// The one HTTP/1.1 server every volley endpoint runs on (ingest, /metrics, the node control
// API, /health/cluster, a dashboard's server-sent events). Event-driven on Boost.Beast (kept
// out of this header): a few I/O threads multiplex every connection, so idle or slow
// clients cost memory, never another client's service. Handlers run on worker threads,
// never on an I/O thread.
//
// Per connection: an idle deadline (no byte of a request yet), a header deadline (from a
// request's first byte until its header is complete), a body deadline and a write deadline;
// a header-size limit (431) and a per-route body limit enforced while the body streams in
// (413 without reading it whole; a Content-Length over the limit is refused before any body
// byte is read). Bodies with Content-Length or Transfer-Encoding: chunked; keep-alive;
// `Expect: 100-continue`. Total and per-peer-address connection limits: a connection over
// either is answered 503 and closed. Stop() finishes requests in progress within a grace
// deadline and closes everything else at once.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/listen_address.h"
#include "volley/common/result.h"

namespace volley::http {

// Header fields in the order given; names compare case-insensitively.
class Headers {
 public:
  void Add(std::string name, std::string value);
  // Replaces every field `name` with one.
  void Set(std::string name, std::string value);
  // The first value of `name`, "" if absent.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct Request {
  std::string method;  // "GET", as sent
  std::string target;  // as sent: "/v1/runs/a/series?metric=x"
  std::string path;    // target before '?', not decoded
  std::string query;   // after '?', "" if none
  Headers headers;
  std::string body;  // the whole body, de-chunked; empty in a HeaderCheck
  std::string peer;  // the peer's IP literal ("127.0.0.1", "::1")
  uint16_t peer_port = 0;
  // The segments matched by the `{}` of the route's pattern, in order.
  std::vector<std::string> params;

  // Query parameter `name`, percent-decoded ('+' is a space); "" if absent.
  std::string Query(std::string_view name) const;
};

// Writes one chunk of a streamed body. Blocks until the chunk is handed to the socket (or
// the write deadline passes); returns false once the peer has gone or the server is
// stopping: the stream function should then return.
using StreamWriter = std::function<bool(std::string_view chunk)>;

struct Response {
  int status = 200;
  std::string content_type = "text/plain";
  Headers headers;  // besides Content-Type, Content-Length, Connection
  std::string body;
  bool close = false;  // close the connection after this answer
  // When set, the answer is streamed (chunked; server-sent events, say) and `body` is
  // ignored: after the header is sent, `stream` runs on a blocking-pool thread and calls
  // the writer for each chunk; the connection closes when it returns. Stop() makes the
  // writer return false, so the function must check it.
  std::function<void(const StreamWriter&)> stream;
};

// Runs on a worker thread (RouteOptions::blocking: the blocking pool). May block; an
// exception becomes a 500.
using Handler = std::function<void(const Request&, Response&)>;

// Runs on an I/O thread once a request's header is read, before its body: returns true to
// answer at once with `res` (the body is then not read and the connection closes), false to
// go on. For authentication and header checks; must not block. `req.body` is empty.
using HeaderCheck = std::function<bool(const Request& req, Response& res)>;

// Fills `res` for an answer the server makes itself (400, 404, 413, 431, 500, 503):
// a service renders it in its own error format. Must not block; may run on an I/O thread.
using ErrorRenderer = std::function<void(int status, std::string_view message, Response& res)>;

struct RouteOptions {
  size_t max_body = 0;    // bytes after de-chunking; 0: ServerOptions::max_body_bytes
  bool blocking = false;  // may wait for long (a drain): runs on the blocking pool
};

// Matches requests to handlers. Fill it, then hand it to HttpServer::Start.
class Router {
 public:
  // `pattern` is an absolute path whose segments may be `{}` (any one non-empty segment,
  // given in Request::params). Exact otherwise: "/metrics" does not match "/metrics/".
  // A GET route also answers HEAD (the body is then not sent).
  void Handle(std::string method, std::string pattern, Handler handler, RouteOptions options = {});
  void SetHeaderCheck(HeaderCheck check) { header_check_ = std::move(check); }
  // Requests that match no route (default: the error renderer's 404).
  void SetNotFound(Handler handler) { not_found_ = std::move(handler); }
  void SetErrorRenderer(ErrorRenderer renderer) { error_renderer_ = std::move(renderer); }

  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
    RouteOptions options;
  };
  // The route for `method` and `path` (params filled), nullptr if none.
  const Route* Match(std::string_view method, std::string_view path,
                     std::vector<std::string>* params) const;
  const HeaderCheck& header_check() const { return header_check_; }
  const Handler& not_found() const { return not_found_; }
  // Renders with the renderer set, or as "message\n" text.
  void RenderError(int status, std::string_view message, Response& res) const;

 private:
  std::vector<Route> routes_;
  HeaderCheck header_check_;
  Handler not_found_;
  ErrorRenderer error_renderer_;
};

struct ServerOptions {
  std::string name = "http";                      // in messages: "ingest", "metrics", "control API"
  Nanos idle_timeout = std::chrono::seconds(30);  // no byte of a request yet
  Nanos header_timeout = std::chrono::seconds(10);  // first byte to the end of the header
  Nanos body_timeout = std::chrono::seconds(30);    // reading a body, whole
  Nanos write_timeout = std::chrono::seconds(30);   // writing an answer (each chunk)
  size_t max_header_bytes = 16 * 1024;              // request line + fields (431 above)
  size_t max_body_bytes = 1 << 20;                  // routes' default (413 above)
  size_t max_connections = 1024;                    // open at once (503 above)
  size_t max_connections_per_peer = 256;            // from one IP address (503 above)
  int io_threads = 1;
  int worker_threads = 2;                          // ordinary handlers
  int blocking_threads = 2;                        // RouteOptions::blocking handlers and streams
  bool keep_alive = true;                          // false: every answer closes its connection
  Nanos shutdown_grace = std::chrono::seconds(5);  // Stop(): in-flight requests' deadline
};

// Thread-safe. Stop() and the destructor must not be called from a handler or from an I/O
// thread (they wait for both).
class HttpServer {
 public:
  // Binds `address` (SO_REUSEADDR, never SO_REUSEPORT: a port in use is an error), starts
  // the threads and returns once listening. Errors: kInvalidArgument (bad options or
  // address literal); kIo when binding fails, the message naming the address and the
  // reason, and `*bind_errno` (if given) set to the errno of the failure; kInternal (no
  // thread).
  static Result<std::unique_ptr<HttpServer>> Start(const ListenAddress& address,
                                                   ServerOptions options, Router router,
                                                   int* bind_errno = nullptr);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const;
  const std::string& host() const;

  // Counters since Start; each read is atomic (the set is not a snapshot).
  struct Stats {
    uint64_t accepted = 0;         // connections taken on
    uint64_t refused = 0;          // answered 503 at accept (over a connection limit)
    uint64_t requests = 0;         // requests handed to a handler or answered by the server
    uint64_t header_timeouts = 0;  // closed at the header deadline
    uint64_t idle_timeouts = 0;    // closed at the idle deadline
    uint64_t open = 0;             // connections open now
  };
  Stats stats() const;

  // Stops accepting, closes idle connections (and ones still sending a header), lets the
  // requests whose header is in finish within options.shutdown_grace (answering with
  // Connection: close), then closes the rest, waits for running handlers to return and
  // joins the threads. Idempotent.
  void Stop();

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Constant-time equality of two secrets (CRYPTO_memcmp): the time taken does not depend on
// where they differ, only on their lengths.
bool SecretsEqual(std::string_view a, std::string_view b);

// The token of an `Authorization: Bearer <t>` (or `Token <t>` if `allow_token_scheme`)
// header, trimmed; "" if there is none of that form.
std::string_view AuthorizationToken(const Request& req, bool allow_token_scheme);

// True when `host` (a listen address literal) is a loopback address: 127.0.0.0/8 or ::1.
bool IsLoopback(std::string_view host);

}  // namespace volley::http
