#include "connection.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cassert>

#include "tls_context.h"

namespace volley::engine {
namespace {

// send(2) and recv(2) through syscall(2): glibc wraps send/recv as thread-cancellation
// points, which costs two calls (enable/disable async cancel) per syscall in a threaded
// process; volley never cancels threads. Same results and errno as send/recv.
inline ssize_t RawSend(int fd, const char* buf, size_t len) {
  return syscall(SYS_sendto, fd, buf, len, MSG_NOSIGNAL, nullptr, 0);
}
inline ssize_t RawRecv(int fd, char* buf, size_t len) {
  return syscall(SYS_recvfrom, fd, buf, len, 0, nullptr, nullptr);
}

}  // namespace

bool ReplayableRequest(std::string_view method, bool has_idempotency_key) {
  return has_idempotency_key || method == "GET" || method == "HEAD" || method == "OPTIONS" ||
         method == "TRACE";
}

Connection::Connection(EventLoop& loop, ConnectionOwner& owner, const Endpoint& endpoint,
                       const TlsContext* tls, char* read_buffer, size_t read_buffer_size,
                       Nanos connect_timeout, Nanos request_timeout, uint32_t id)
    : loop_(loop),
      owner_(owner),
      endpoint_(endpoint),
      tls_(tls),
      read_buffer_(read_buffer),
      read_buffer_size_(read_buffer_size),
      connect_timeout_(connect_timeout),
      request_timeout_(request_timeout),
      id_(id) {
  write_soon_.connection = this;
}

Connection::~Connection() {
  Close();
  if (session_) SSL_SESSION_free(session_);
}

void Connection::Close() {
  loop_.Cancel(this);
  loop_.Cancel(&write_soon_);
  if (ssl_) {
    // Marking the session shut down keeps it resumable (SSL_free would otherwise flag a
    // session closed without shutdown as bad).
    SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    loop_.Remove(fd_);
    close(fd_);
    fd_ = -1;
  }
  state_ = State::kClosed;
  watching_write_ = false;
  pending_ = {};
  retry_pending_ = false;
}

void Connection::Connect() {
  timings_ = RequestTimings{};
  fresh_ = true;
  request_fresh_ = false;
  timings_.connect_start = loop_.RefreshNow();
  fd_ = socket(endpoint_.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    Fail(ErrorCategory::kNetwork, "socket() failed (too many open files? raise ulimit -n)");
    return;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int rc = connect(fd_, reinterpret_cast<const sockaddr*>(&endpoint_.addr), endpoint_.addr_len);
  if (rc != 0 && errno != EINPROGRESS) {
    Fail(ErrorCategory::kNetwork, "connect failed");
    return;
  }
  state_ = State::kConnecting;
  watching_write_ = true;
  if (!loop_.Add(fd_, EPOLLOUT, this)) {
    Fail(ErrorCategory::kNetwork, "epoll registration failed");
    return;
  }
  loop_.Arm(this, timings_.connect_start + connect_timeout_);
}

void Connection::OnConnected() {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    Fail(ErrorCategory::kNetwork,
         err == ECONNREFUSED ? "connection refused (is the target up?)" : "connect failed");
    return;
  }
  timings_.connect_end = loop_.RefreshNow();
  if (tls_) {
    ssl_ = SSL_new(tls_->ctx());
    if (!ssl_) {
      Fail(ErrorCategory::kTls, "SSL_new failed");
      return;
    }
    SSL_set_fd(ssl_, fd_);
    SSL_set_connect_state(ssl_);  // SSL_do_handshake() needs the role; SSL_connect() sets it
    // SNI carries names only (RFC 6066); an IP literal is checked against IP SANs.
    if (!tls_->host_is_ip()) SSL_set_tlsext_host_name(ssl_, tls_->host().c_str());
    if (tls_->verify()) {
      if (tls_->host_is_ip()) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), tls_->host().c_str());
      } else {
        SSL_set1_host(ssl_, tls_->host().c_str());
      }
    }
    if (session_) SSL_set_session(ssl_, session_);
    state_ = State::kHandshaking;
    DoHandshake();
    return;
  }
  BecomeReady();
}

void Connection::BecomeReady() {
  loop_.Cancel(this);
  state_ = State::kIdle;
  WatchWrite(false);
  if (!retry_pending_) {
    owner_.OnReady(*this);
    return;
  }
  retry_pending_ = false;
  const Nanos deadline = retry_deadline_;
  Send(request_, head_, /*replayable=*/false);
  if (deadline < deadline_) {  // the retry keeps the request's first deadline
    deadline_ = deadline;
    loop_.Arm(this, deadline_);
  }
}

void Connection::DoHandshake() {
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    timings_.tls_end = loop_.RefreshNow();
    if (SSL_SESSION* s = SSL_get1_session(ssl_)) {
      if (session_) SSL_SESSION_free(session_);
      session_ = s;
    }
    BecomeReady();
    return;
  }
  int e = SSL_get_error(ssl_, rc);
  if (e == SSL_ERROR_WANT_READ) {
    WatchWrite(false);
  } else if (e == SSL_ERROR_WANT_WRITE) {
    WatchWrite(true);
  } else {
    ERR_clear_error();
    const long verify = SSL_get_verify_result(ssl_);
    // X509_verify_cert_error_string returns static text, which outlives the report.
    Fail(ErrorCategory::kTls,
         verify != X509_V_OK ? X509_verify_cert_error_string(verify) : "TLS handshake failed");
  }
}

void Connection::WatchWrite(bool on) {
  if (on == watching_write_ || fd_ < 0) return;
  watching_write_ = on;
  loop_.Modify(fd_, on ? (EPOLLIN | EPOLLOUT) : EPOLLIN, this);
}

void Connection::ConnectAt(Nanos when) { loop_.Arm(this, when); }

void Connection::Send(std::string_view request, bool head, bool replayable) {
  assert(state_ == State::kIdle);
  request_fresh_ = fresh_;
  fresh_ = false;
  if (!request_fresh_) timings_ = RequestTimings{};
  pending_ = request;
  request_ = request;
  head_ = head;
  replayable_ = replayable;
  parser_.Reset(head);
  state_ = State::kSending;
  timings_.send_start = Nanos(0);  // set by the first write
  // Deadlines only move later, so the heap is touched once per timeout period per
  // connection, not twice per request: OnTimer re-arms for the current deadline.
  deadline_ = loop_.Now() + request_timeout_;
  if (!armed()) loop_.Arm(this, deadline_);
  loop_.Defer(&write_soon_);
}

void Connection::WriteNow() {
  // Anything may have happened since Send(): a close, or a write readiness event that
  // already wrote (then the write is watched and resumes from OnIo).
  if (state_ == State::kSending && !watching_write_) DoWrite();
}

ssize_t Connection::WriteSome(const char* buf, size_t len, ErrorCategory* category) {
  if (ssl_) {
    ERR_clear_error();
    int n = SSL_write(ssl_, buf, static_cast<int>(len));
    if (n > 0) return n;
    int e = SSL_get_error(ssl_, n);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return -1;
    *category = e == SSL_ERROR_SSL ? ErrorCategory::kTls : ErrorCategory::kNetwork;
    ERR_clear_error();
    return -2;
  }
  ssize_t n = RawSend(fd_, buf, len);
  if (n >= 0) return n;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return -1;
  *category = ErrorCategory::kNetwork;
  return -2;
}

void Connection::DoWrite() {
  if (timings_.send_start == Nanos(0)) timings_.send_start = loop_.Now();
  while (!pending_.empty()) {
    ErrorCategory category = ErrorCategory::kNetwork;
    ssize_t n = WriteSome(pending_.data(), pending_.size(), &category);
    if (n == -1) {
      WatchWrite(true);
      return;
    }
    if (n < 0) {
      FailOrRetry(category, "send failed");
      return;
    }
    timings_.bytes_sent += static_cast<uint64_t>(n);
    pending_.remove_prefix(static_cast<size_t>(n));
  }
  WatchWrite(false);
  timings_.send_end = loop_.RefreshNow();
  state_ = State::kReceiving;
}

ssize_t Connection::ReadSome(char* buf, size_t len, ErrorCategory* category) {
  if (ssl_) {
    ERR_clear_error();
    int n = SSL_read(ssl_, buf, static_cast<int>(len));
    if (n > 0) return n;
    int e = SSL_get_error(ssl_, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return -1;
    if (e == SSL_ERROR_ZERO_RETURN) return 0;
    if (e == SSL_ERROR_SSL &&
        ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      ERR_clear_error();  // OpenSSL 3's "EOF without close_notify": an EOF to the parser
      return 0;
    }
    // A peer that closes without close_notify is an EOF for close-delimited bodies.
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      ERR_clear_error();
      return errno == ECONNRESET ? (*category = ErrorCategory::kNetwork, -2) : 0;
    }
    *category = e == SSL_ERROR_SSL ? ErrorCategory::kTls : ErrorCategory::kNetwork;
    ERR_clear_error();
    return -2;
  }
  ssize_t n = RawRecv(fd_, buf, len);
  if (n >= 0) return n;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return -1;
  *category = ErrorCategory::kNetwork;
  return -2;
}

void Connection::DoRead() {
  for (;;) {
    ErrorCategory category = ErrorCategory::kNetwork;
    ssize_t n = ReadSome(read_buffer_, read_buffer_size_, &category);
    if (n == -1) return;
    if (n == -2) {
      if (state_ == State::kReceiving) {
        FailOrRetry(category, "connection reset while receiving");
      } else {
        Fail(category, "connection error");
      }
      return;
    }
    if (state_ != State::kReceiving) {
      // Data or EOF on an idle connection: the server closed it (or sent junk).
      Close();
      owner_.OnIdleClosed(*this);
      return;
    }
    if (n == 0) {
      auto st = parser_.OnEof();
      if (st == ResponseParser::Status::kDone) {
        Finish(false);
      } else if (timings_.first_byte == Nanos(0)) {
        FailOrRetry(ErrorCategory::kNetwork, "connection closed before any response");
      } else {
        Fail(ErrorCategory::kNetwork, "connection closed mid-response");
      }
      return;
    }
    // The first bytes' time; when the whole response came in this same read, it is also
    // the response's end (one clock read fewer per request; receiving is then 0).
    Nanos read_at{0};
    if (timings_.first_byte == Nanos(0)) read_at = timings_.first_byte = loop_.RefreshNow();
    timings_.bytes_received += static_cast<uint64_t>(n);
    size_t consumed = 0;
    auto st = parser_.Feed(read_buffer_, static_cast<size_t>(n), &consumed);
    if (st == ResponseParser::Status::kError) {
      const ParseError e = parser_.error();
      const bool body = e == ParseError::kBadChunk || e == ParseError::kTruncated ||
                        e == ParseError::kBodyTooLarge;
      Fail(body ? ErrorCategory::kNetwork : ErrorCategory::kOther, ErrorText(e));
      return;
    }
    if (st == ResponseParser::Status::kDone) {
      if (consumed < static_cast<size_t>(n)) {
        // Bytes beyond the response without pipelining: the stream is out of step. Count
        // the response and drop the connection (decided before the owner's callback, which
        // may reuse the connection at once).
        Finish(/*out_of_step=*/true, read_at);
        return;
      }
      Finish(false, read_at);
      return;
    }
    // kNeedMore: with plain TCP, a short read means the socket is drained; don't spend a
    // syscall to hear EAGAIN. TLS may hold decrypted bytes, so keep reading there.
    if (!ssl_ && static_cast<size_t>(n) < read_buffer_size_) return;
  }
}

void Connection::Finish(bool out_of_step, Nanos read_at) {
  // The request timer stays armed (see Send); OnTimer ignores an idle connection.
  timings_.done = read_at != Nanos(0) ? read_at : loop_.RefreshNow();
  const bool keep = parser_.keep_alive() && !out_of_step;
  if (ssl_ && request_fresh_) {
    // TLS 1.3 session tickets arrive after the handshake: take the session again now.
    if (SSL_SESSION* s = SSL_get1_session(ssl_)) {
      if (session_) SSL_SESSION_free(session_);
      session_ = s;
    }
  }
  state_ = State::kIdle;
  if (!keep) {
    Close();
  }
  owner_.OnResponse(*this, parser_);
}

void Connection::Fail(ErrorCategory category, const char* what) {
  Close();
  if (timings_.done == Nanos(0)) timings_.done = loop_.RefreshNow();
  owner_.OnFailure(*this, category, what);
}

void Connection::FailOrRetry(ErrorCategory category, const char* what) {
  // TLS errors are not a closed connection; a response that began is not stale.
  const bool nothing_written = timings_.bytes_sent == 0;
  if (request_fresh_ || category != ErrorCategory::kNetwork || timings_.first_byte != Nanos(0) ||
      !(replayable_ || nothing_written)) {
    Fail(category, what);
    return;
  }
  const Nanos deadline = deadline_;
  const uint64_t sent = timings_.bytes_sent;
  const std::string_view request = request_;
  const bool head = head_;
  Close();
  request_ = request;
  head_ = head;
  retry_pending_ = true;
  retry_deadline_ = deadline;
  owner_.OnStaleRetry(*this);
  Connect();  // resets the timings: the retry's connect is its connecting phase
  // The first attempt's bytes did leave (unless the connect failed at once and the owner
  // has heard the failure already).
  if (state_ != State::kClosed) timings_.bytes_sent = sent;
}

void Connection::OnIo(uint32_t events) {
  switch (state_) {
    case State::kConnecting:
      OnConnected();
      return;
    case State::kHandshaking:
      DoHandshake();
      return;
    case State::kSending:
      if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
        FailOrRetry(ErrorCategory::kNetwork, "connection reset while sending");
        return;
      }
      DoWrite();
      if (state_ == State::kReceiving && (events & EPOLLIN)) DoRead();
      return;
    case State::kReceiving:
    case State::kIdle:
      DoRead();
      return;
    case State::kClosed:
      return;
  }
}

void Connection::OnTimer() {
  if (state_ == State::kClosed) {
    Connect();
    return;
  }
  if (state_ == State::kIdle) return;  // a request deadline that outlived its request
  if (busy() && loop_.Now() < deadline_) {
    loop_.Arm(this, deadline_);
    return;
  }
  const bool connecting = state_ == State::kConnecting || state_ == State::kHandshaking;
  Fail(ErrorCategory::kTimeout, connecting ? "connect timeout" : "request timeout");
}

}  // namespace volley::engine
