// One client connection of a worker: TCP (and TLS) connect, send one request, receive one
// response, repeat. No pipelining. Confined to its worker's thread.
#pragma once

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cstdint>
#include <string_view>

#include "http_response_parser.h"
#include "volley/common/event_loop.h"
#include "volley/engine/measurements.h"

namespace volley::engine {

class TlsContext;

// Where connections go (after RESOLVE_TARGET_ADDR and DNS).
struct Endpoint {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
};

// Timestamps of one request, in loop time. Phases that did not happen are zero.
struct RequestTimings {
  Nanos connect_start{0}, connect_end{0}, tls_end{0};
  Nanos send_start{0}, send_end{0}, first_byte{0}, done{0};
  uint64_t bytes_sent = 0, bytes_received = 0;
};

class Connection;

// Go's net/http rule for sending a request again after its reused connection failed: a
// request that cannot have been processed (none of its bytes left) always may; one whose
// bytes left may only if it is replayable: GET, HEAD, OPTIONS or TRACE, or any method with
// an Idempotency-Key or X-Idempotency-Key header (`has_idempotency_key`).
bool ReplayableRequest(std::string_view method, bool has_idempotency_key);

// Callbacks into the worker. They run on the worker thread, from inside the connection's
// event handling; the connection is in a consistent state when they are called.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // Connected (and TLS done) or idle again after a keep-alive response: Send() may be
  // called now (or later).
  virtual void OnReady(Connection& c) = 0;
  // A response completed. The parser holds its status and headers; timings are final.
  virtual void OnResponse(Connection& c, const ResponseParser& response) = 0;
  // The request failed, or the connection failed while connecting or idle (then c.tag is
  // whatever the owner left, e.g. 0); the connection is closed already. `what` is static
  // text describing the failure.
  virtual void OnFailure(Connection& c, ErrorCategory category, const char* what) = 0;
  // An idle keep-alive connection was closed by the server; it is closed now.
  virtual void OnIdleClosed(Connection& c) = 0;
  // The request in flight is being sent again on a new connection, because the reused
  // keep-alive connection it went out on was closed or reset before any byte of a response
  // arrived (see Send). Informational: OnResponse or OnFailure follows as usual.
  virtual void OnStaleRetry(Connection& c) = 0;
};

class Connection final : public IoHandler, public Timer {
 public:
  enum class State : uint8_t { kClosed, kConnecting, kHandshaking, kIdle, kSending, kReceiving };

  // `loop`, `owner`, `endpoint`, `tls` (nullptr for plain HTTP) and `read_buffer` must
  // outlive the connection; the read buffer is shared by the worker's connections.
  Connection(EventLoop& loop, ConnectionOwner& owner, const Endpoint& endpoint,
             const TlsContext* tls, char* read_buffer, size_t read_buffer_size,
             Nanos connect_timeout, Nanos request_timeout, uint32_t id);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts connecting; OnReady or OnFailure follows. Precondition: closed.
  void Connect();
  // Connects at loop time `when` (never synchronously, so a failing connect can't recurse
  // through OnFailure). Precondition: closed.
  void ConnectAt(Nanos when);
  // Sends `request` (which must stay valid until the response) and reads the response.
  // Precondition: idle (asserted). `head` tells the parser not to expect a body. The
  // bytes go out at the end of the loop's turn (EventLoop::Defer), so that a turn first
  // reads every ready response and then writes the requests they freed, together: the
  // target sees them in one burst and the send time is taken when they leave.
  //
  // Stale keep-alive connections: when the connection was reused (it served an earlier
  // request) and is closed or reset by the server before any byte of the response arrives,
  // the request goes out once more on a new connection, as browsers, curl and Go do:
  // always if none of its bytes had left, otherwise only if `replayable` (see
  // ReplayableRequest). The owner hears OnStaleRetry, then the outcome of the second
  // attempt; the timings are the second attempt's (its connect included), and the
  // request's deadline stays the first attempt's. A request on a fresh connection is never
  // sent again: a server that reads a request and then drops the connection is an error.
  //
  // `tail`, when not empty, is written right after `request` (a large body kept apart from
  // the head, e.g. one shared block, so that it is never copied); it must stay valid as
  // long as `request`.
  void Send(std::string_view request, bool head, bool replayable = false,
            std::string_view tail = {});
  // Closes without calling the owner.
  void Close();
  // Scenario mode: the timeout of the next requests, and what the parser keeps of their
  // responses (see ResponseParser::set_capture). Call between requests.
  void set_request_timeout(Nanos timeout) { request_timeout_ = timeout; }
  void set_capture(bool headers, size_t max_body) { parser_.set_capture(headers, max_body); }
  // false: closed after every response (a new connection for each request).
  void set_keep_alive(bool on) { keep_alive_ = on; }

  State state() const { return state_; }
  bool idle() const { return state_ == State::kIdle; }
  bool busy() const { return state_ == State::kSending || state_ == State::kReceiving; }
  uint32_t id() const { return id_; }
  const RequestTimings& timings() const { return timings_; }
  // True when the current request's connection was opened for it (connect phases count).
  bool fresh() const { return request_fresh_; }
  // Free for the owner's bookkeeping (e.g. the intended time of the request it carries,
  // and its place in the owner's idle pool, -1 when not there).
  Nanos tag{0};
  int32_t pool_slot = -1;

  void OnIo(uint32_t events) override;
  void OnTimer() override;

 private:
  void OnConnected();
  void DoHandshake();
  // The deferred write of Send().
  struct WriteSoon final : Deferred {
    Connection* connection = nullptr;
    void OnDeferred() override { connection->WriteNow(); }
  };

  void WriteNow();
  void DoWrite();
  void DoRead();
  void Fail(ErrorCategory category, const char* what);
  // A failure of the request in flight before its response began: sends it again on a new
  // connection if Send's stale-connection rule allows it, else Fail().
  void FailOrRetry(ErrorCategory category, const char* what);
  // Connected (and TLS done): the retried request goes out, or the owner hears OnReady.
  void BecomeReady();
  // `read_at`: when set, the time of the read that completed the response (it is the
  // response's end without reading the clock again).
  void Finish(bool out_of_step, Nanos read_at = Nanos(0));
  void WatchWrite(bool on);
  // Returns bytes (>0), 0 at EOF, -1 would block, -2 error (category set).
  ssize_t ReadSome(char* buf, size_t len, ErrorCategory* category);
  ssize_t WriteSome(const char* buf, size_t len, ErrorCategory* category);

  EventLoop& loop_;
  ConnectionOwner& owner_;
  const Endpoint& endpoint_;
  const TlsContext* tls_;
  char* read_buffer_;
  size_t read_buffer_size_;
  Nanos connect_timeout_;
  Nanos request_timeout_;
  uint32_t id_;

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  SSL_SESSION* session_ = nullptr;  // for resumption on reconnect
  State state_ = State::kClosed;
  bool fresh_ = false;          // connected, no request sent yet
  bool request_fresh_ = false;  // the current request opened the connection
  bool watching_write_ = false;
  bool keep_alive_ = true;         // set_keep_alive
  std::string_view pending_;       // request bytes not yet written
  std::string_view pending_tail_;  // then these (Send's tail)
  // The request in flight, kept for a stale-connection retry.
  std::string_view request_;
  std::string_view request_tail_;
  bool head_ = false;
  bool replayable_ = false;
  bool retry_pending_ = false;  // reconnecting to send request_ again
  Nanos retry_deadline_{0};     // the retried request's deadline (the first attempt's)
  WriteSoon write_soon_;
  RequestTimings timings_;
  Nanos deadline_{0};  // of the request in flight
  ResponseParser parser_;
};

}  // namespace volley::engine
