// HttpServer on Boost.Beast (http_server.h). One Session per connection lives on its own
// strand; the acceptor has one too. Handlers run on asio thread pools and post their answer
// back to the session's strand.
//
// A session's life: kIdle (waiting for the first byte of a request; idle deadline) ->
// kHeader (header deadline) -> kBusy (body, handler, answer) -> kIdle again on keep-alive,
// or kStream for a streamed answer; closed on any error or deadline.
#include "volley/common/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "volley/common/strings.h"

namespace volley::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

constexpr auto kLingerTime = std::chrono::seconds(1);  // draining a refused body
constexpr size_t kLingerBytes = 1 << 20;
constexpr const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";

std::chrono::steady_clock::duration Steady(Nanos d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
}

}  // namespace

class Session;

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, Router router)
      : options_(std::move(options)),
        router_(std::move(router)),
        acceptor_(net::make_strand(ioc_)),
        accept_retry_(acceptor_.get_executor()),
        guard_(net::make_work_guard(ioc_)) {}

  Result<void> Listen(const ListenAddress& address, int* bind_errno);
  Result<void> StartThreads();
  void Stop();
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  bool hard_stop() const { return hard_stop_.load(std::memory_order_acquire); }
  void Unregister(Session* s, const std::string& peer);

  const ServerOptions options_;
  const Router router_;
  std::string host_;
  uint16_t port_ = 0;

  std::atomic<uint64_t> accepted_{0}, refused_{0}, requests_{0}, header_timeouts_{0},
      idle_timeouts_{0}, open_{0};

  net::thread_pool& workers() { return *workers_; }
  net::thread_pool& blocking() { return *blocking_; }

 private:
  void DoAccept();
  void OnAccepted(tcp::socket socket);
  void Refuse(tcp::socket socket, std::string why);

  std::mutex mu_;
  std::condition_variable cv_;                                     // signalled when a session ends
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;  // guarded by mu_
  std::unordered_map<std::string, size_t> per_peer_;               // guarded by mu_
  std::atomic<bool> stopping_{false}, hard_stop_{false};
  std::mutex stop_mu_;    // serialises Stop()
  bool stopped_ = false;  // guarded by stop_mu_

  // Declared last: destroyed first, so sessions released by their destruction still find
  // the members above.
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::steady_timer accept_retry_;  // after accept() fails (EMFILE)
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::unique_ptr<net::thread_pool> workers_, blocking_;
  std::vector<std::thread> io_threads_;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpServer::Impl& server, tcp::socket socket, std::string peer, uint16_t peer_port)
      : server_(server),
        stream_(std::move(socket)),
        peer_(std::move(peer)),
        peer_port_(peer_port) {}
  ~Session() { server_.Unregister(this, peer_); }

  net::any_io_executor executor() { return stream_.get_executor(); }
  void Start() { WaitForRequest(); }

  // On the strand: Stop() began. Connections without a request header in are closed.
  void OnStop() {
    if (state_ == State::kIdle || state_ == State::kHeader) Close();
  }
  // On the strand: Stop()'s grace is over.
  void HardClose() { Close(); }

 private:
  enum class State { kIdle, kHeader, kBusy, kStream, kClosed };

  void WaitForRequest() {
    state_ = State::kIdle;
    if (server_.stopping()) return Close();
    if (buffer_.size() > 0) return ReadHeader();  // pipelined
    stream_.expires_after(Steady(server_.options_.idle_timeout));
    stream_.async_read_some(buffer_.prepare(512),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) {
                                if (ec == beast::error::timeout) ++self->server_.idle_timeouts_;
                                return self->Close();
                              }
                              self->buffer_.commit(n);
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    if (state_ == State::kClosed) return;
    state_ = State::kHeader;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_.options_.max_header_bytes));
    parser_->body_limit(boost::none);  // checked per route in OnHeader
    stream_.expires_after(Steady(server_.options_.header_timeout));
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (state_ == State::kClosed) return;
    if (ec) {
      if (ec == beast::error::timeout) {
        ++server_.header_timeouts_;
        return Close();
      }
      if (ec == bhttp::error::end_of_stream || ec == net::error::eof ||
          ec == net::error::operation_aborted || ec == net::error::connection_reset) {
        return Close();
      }
      ++server_.requests_;
      state_ = State::kBusy;
      if (ec == bhttp::error::header_limit) {
        return AnswerError(431, "the request header is over the limit of " +
                                    std::to_string(server_.options_.max_header_bytes) + " bytes");
      }
      return AnswerError(400, "malformed HTTP request: " + ec.message());
    }
    ++server_.requests_;
    state_ = State::kBusy;
    const auto& h = parser_->get();
    req_ = Request{};
    req_.method = std::string(h.method_string());
    req_.target = std::string(h.target());
    const size_t q = req_.target.find('?');
    req_.path = req_.target.substr(0, q);
    if (q != std::string::npos) req_.query = req_.target.substr(q + 1);
    for (const auto& f : h) req_.headers.Add(std::string(f.name_string()), std::string(f.value()));
    req_.peer = peer_;
    req_.peer_port = peer_port_;
    route_ = server_.router_.Match(req_.method, req_.path, &req_.params);
    head_ = req_.method == "HEAD";
    if (const auto& check = server_.router_.header_check(); check) {
      Response res;
      if (check(req_, res)) return Answer(std::move(res));
    }
    const size_t max = route_ && route_->options.max_body ? route_->options.max_body
                                                          : server_.options_.max_body_bytes;
    if (auto length = parser_->content_length(); length && *length > max) return TooLarge(max);
    if (parser_->is_done()) return Dispatch();
    parser_->body_limit(max);
    if (EqualsIgnoreCase(Trim(req_.headers.Get("Expect")), "100-continue")) {
      stream_.expires_after(Steady(server_.options_.write_timeout));
      return net::async_write(stream_, net::buffer(kContinue, sizeof kContinue - 1),
                              [self = shared_from_this(), max](beast::error_code ec, size_t) {
                                if (ec) return self->Close();
                                self->ReadBody(max);
                              });
    }
    ReadBody(max);
  }

  void ReadBody(size_t max) {
    stream_.expires_after(Steady(server_.options_.body_timeout));
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this(), max](beast::error_code ec, size_t) {
                        if (self->state_ == State::kClosed) return;
                        if (ec == bhttp::error::body_limit) return self->TooLarge(max);
                        if (ec == beast::error::timeout || ec == bhttp::error::end_of_stream ||
                            ec == net::error::eof || ec == net::error::operation_aborted) {
                          return self->Close();
                        }
                        if (ec) return self->AnswerError(400, "malformed body: " + ec.message());
                        self->Dispatch();
                      });
  }

  void TooLarge(size_t max) {
    AnswerError(413, "the body is over the limit of " + std::to_string(max) + " bytes");
  }

  void AnswerError(int status, const std::string& message) {
    Response res;
    server_.router_.RenderError(status, message, res);
    res.close = true;
    Answer(std::move(res));
  }

  void Dispatch() {
    req_.body = std::move(parser_->get().body());
    const bool blocking = route_ && route_->options.blocking;
    auto run = [self = shared_from_this()] {
      Response res;
      const Handler* handler = self->route_ ? &self->route_->handler : nullptr;
      if (!handler && self->server_.router_.not_found())
        handler = &self->server_.router_.not_found();
      try {
        if (handler) {
          (*handler)(self->req_, res);
        } else {
          self->server_.router_.RenderError(
              404, "no such endpoint: " + self->req_.method + " " + self->req_.path.substr(0, 200),
              res);
        }
      } catch (const std::exception& e) {
        res = Response{};
        self->server_.router_.RenderError(500, std::string("the handler failed: ") + e.what(), res);
      } catch (...) {
        res = Response{};
        self->server_.router_.RenderError(500, "the handler failed", res);
      }
      net::post(self->executor(),
                [self, res = std::move(res)]() mutable { self->Answer(std::move(res)); });
    };
    net::post(blocking ? server_.blocking() : server_.workers(), std::move(run));
  }

  void Answer(Response res) {
    if (state_ == State::kClosed) return;
    if (res.stream && !head_) return StartStream(std::move(res));
    const bool body_read = parser_ && parser_->is_done();
    const bool keep = body_read && parser_->get().keep_alive() && server_.options_.keep_alive &&
                      !res.close && !server_.stopping();
    res_.emplace(static_cast<bhttp::status>(res.status),
                 parser_ && parser_->get().version() == 10 ? 10 : 11);
    res_->set(bhttp::field::content_type, res.content_type);
    for (const auto& [k, v] : res.headers.fields()) res_->insert(k, v);
    if (head_) {
      res_->content_length(res.body.size());
    } else {
      res_->body() = std::move(res.body);
      res_->prepare_payload();
    }
    res_->keep_alive(keep);
    stream_.expires_after(Steady(server_.options_.write_timeout));
    bhttp::async_write(stream_, *res_,
                       [self = shared_from_this(), keep, body_read](beast::error_code ec, size_t) {
                         self->res_.reset();
                         if (ec) return self->Close();
                         if (!keep) return body_read ? self->Close() : self->Linger(0);
                         self->parser_.reset();
                         self->WaitForRequest();
                       });
  }

  // After answering a request whose body was not read: stop sending, then read and drop what
  // the peer still sends (bounded) so that closing does not reset the connection before the
  // peer has read the answer.
  void Linger(size_t drained) {
    if (drained == 0) {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      stream_.expires_after(kLingerTime);
    }
    if (drained > kLingerBytes) return Close();
    stream_.async_read_some(net::buffer(drain_),
                            [self = shared_from_this(), drained](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->Linger(drained + n + 1);
                            });
  }

  void StartStream(Response res) {
    state_ = State::kStream;
    auto header = std::make_shared<bhttp::response<bhttp::empty_body>>(
        static_cast<bhttp::status>(res.status), 11);
    header->set(bhttp::field::content_type, res.content_type);
    for (const auto& [k, v] : res.headers.fields()) header->insert(k, v);
    header->chunked(true);
    header->keep_alive(false);
    auto sr = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*header);
    stream_.expires_after(Steady(server_.options_.write_timeout));
    bhttp::async_write_header(stream_, *sr,
                              [self = shared_from_this(), header, sr, fn = std::move(res.stream)](
                                  beast::error_code ec, size_t) {
                                if (ec) return self->Close();
                                self->stream_.expires_never();
                                net::post(self->server_.blocking(), [self, fn] {
                                  const StreamWriter writer = [self](std::string_view chunk) {
                                    return self->Enqueue(chunk);
                                  };
                                  try {
                                    fn(writer);
                                  } catch (...) {
                                  }
                                  {
                                    std::lock_guard<std::mutex> lock(self->stream_mu_);
                                    self->stream_ended_ = true;
                                  }
                                  net::post(self->executor(), [self] { self->Flush(); });
                                });
                              });
  }

  // On a blocking-pool thread: queues one chunk and waits until it is written.
  bool Enqueue(std::string_view chunk) {
    if (server_.stopping()) return false;
    if (chunk.empty()) return true;  // an empty chunk would end the body
    std::unique_lock<std::mutex> lock(stream_mu_);
    if (stream_closed_) return false;
    chunks_.emplace_back(chunk);
    const uint64_t mine = ++queued_;
    lock.unlock();
    net::post(executor(), [self = shared_from_this()] { self->Flush(); });
    lock.lock();
    stream_cv_.wait(lock, [&] { return written_ >= mine || stream_closed_; });
    return written_ >= mine && !server_.stopping();
  }

  // On the strand: writes the next queued chunk, or the last chunk once the stream ended.
  void Flush() {
    if (writing_ || state_ == State::kClosed) return;
    std::unique_lock<std::mutex> lock(stream_mu_);
    if (chunks_.empty()) {
      if (!stream_ended_) return;
      lock.unlock();
      writing_ = true;
      stream_.expires_after(Steady(server_.options_.write_timeout));
      return net::async_write(
          stream_, bhttp::make_chunk_last(),
          [self = shared_from_this()](beast::error_code, size_t) { self->Close(); });
    }
    current_ = std::move(chunks_.front());
    chunks_.pop_front();
    lock.unlock();
    writing_ = true;
    stream_.expires_after(Steady(server_.options_.write_timeout));
    net::async_write(stream_, bhttp::make_chunk(net::buffer(current_)),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->writing_ = false;
                       if (ec) return self->Close();
                       {
                         std::lock_guard<std::mutex> lock(self->stream_mu_);
                         ++self->written_;
                       }
                       self->stream_cv_.notify_all();
                       self->Flush();
                     });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    {
      std::lock_guard<std::mutex> lock(stream_mu_);
      stream_closed_ = true;
    }
    stream_cv_.notify_all();
  }

  HttpServer::Impl& server_;
  beast::tcp_stream stream_;
  const std::string peer_;
  const uint16_t peer_port_;

  // On the strand (or, while a handler runs, read by it alone: the strand does not touch
  // req_ then).
  State state_ = State::kIdle;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::string_body>> res_;
  Request req_;
  const Router::Route* route_ = nullptr;
  bool head_ = false;
  bool writing_ = false;  // a stream chunk is being written
  std::string current_;   // the chunk being written
  std::array<char, 4096> drain_{};

  std::mutex stream_mu_;
  std::condition_variable stream_cv_;  // a chunk written, or the stream closed
  std::deque<std::string> chunks_;     // guarded by stream_mu_
  uint64_t queued_ = 0;                // guarded by stream_mu_
  uint64_t written_ = 0;               // guarded by stream_mu_
  bool stream_ended_ = false;          // guarded by stream_mu_
  bool stream_closed_ = false;         // guarded by stream_mu_
};

Result<void> HttpServer::Impl::Listen(const ListenAddress& address, int* bind_errno) {
  beast::error_code ec;
  const auto ip = net::ip::make_address(address.host, ec);
  if (ec) {
    return MakeError(ErrorCode::kInvalidArgument,
                     options_.name + ": '" + address.host + "' is not an IP address literal");
  }
  const tcp::endpoint endpoint(ip, address.port);
  const bool v6 = ip.is_v6();
  const std::string where =
      (v6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(address.port);
  auto fail = [&](const char* what) {
    if (bind_errno) *bind_errno = ec.value();
    return MakeError(ErrorCode::kIo,
                     options_.name + ": cannot " + what + " " + where + ": " + ec.message());
  };
  if (acceptor_.open(endpoint.protocol(), ec); ec) return fail("open a socket for");
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (acceptor_.bind(endpoint, ec); ec) return fail("bind");
  if (acceptor_.listen(net::socket_base::max_listen_connections, ec); ec) return fail("listen on");
  port_ = acceptor_.local_endpoint(ec).port();
  host_ = address.host;
  return {};
}

Result<void> HttpServer::Impl::StartThreads() {
  if (options_.io_threads < 1 || options_.worker_threads < 1 || options_.blocking_threads < 1 ||
      options_.max_connections < 1 || options_.max_connections_per_peer < 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     options_.name + ": thread counts and connection limits must be > 0");
  }
  try {
    workers_ = std::make_unique<net::thread_pool>(options_.worker_threads);
    blocking_ = std::make_unique<net::thread_pool>(options_.blocking_threads);
    for (int i = 0; i < options_.io_threads; ++i) {
      io_threads_.emplace_back([this] {
        for (;;) {
          try {
            ioc_.run();
            return;
          } catch (const std::exception& e) {
            std::fprintf(stderr, "volley %s: I/O thread: %s (continuing)\n", options_.name.c_str(),
                         e.what());
          }
        }
      });
    }
  } catch (const std::system_error& e) {
    return MakeError(ErrorCode::kInternal, options_.name + ": cannot start a thread: " + e.what());
  }
  net::post(acceptor_.get_executor(), [this] { DoAccept(); });
  return {};
}

void HttpServer::Impl::DoAccept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
    if (stopping() || !acceptor_.is_open()) return;
    if (ec) {  // out of descriptors, say: try again soon instead of spinning
      accept_retry_.expires_after(std::chrono::milliseconds(50));
      accept_retry_.async_wait([this](beast::error_code e) {
        if (!e && !stopping()) DoAccept();
      });
      return;
    }
    OnAccepted(std::move(s));
    DoAccept();
  });
}

void HttpServer::Impl::OnAccepted(tcp::socket socket) {
  beast::error_code ec;
  const tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  socket.set_option(tcp::no_delay(true), ec);
  std::string peer = remote.address().to_string();
  std::shared_ptr<Session> session;
  {
    std::lock_guard<std::mutex> lock(mu_);
    size_t& from_peer = per_peer_[peer];
    if (open_.load() >= options_.max_connections ||
        from_peer >= options_.max_connections_per_peer) {
      const bool total = open_.load() >= options_.max_connections;
      if (from_peer == 0) per_peer_.erase(peer);
      ++refused_;
      return Refuse(std::move(socket),
                    total
                        ? "the server is at its limit of " +
                              std::to_string(options_.max_connections) + " connections"
                        : "this address has " + std::to_string(options_.max_connections_per_peer) +
                              " connections open, the limit per peer");
    }
    ++from_peer;
    ++open_;
    ++accepted_;
    session = std::make_shared<Session>(*this, std::move(socket), peer, remote.port());
    sessions_[session.get()] = session;
  }
  net::post(session->executor(), [session] { session->Start(); });
}

void HttpServer::Impl::Refuse(tcp::socket socket, std::string why) {
  // A short-lived answer that never reads the request: 503, Retry-After, close.
  struct Refusal {
    beast::tcp_stream stream;
    bhttp::response<bhttp::string_body> res;
    std::array<char, 1024> drain{};
  };
  auto r = std::make_shared<Refusal>(Refusal{beast::tcp_stream(std::move(socket)), {}, {}});
  Response body;
  router_.RenderError(503, why + "; retry later", body);
  r->res.result(bhttp::status::service_unavailable);
  r->res.set(bhttp::field::content_type, body.content_type);
  r->res.set(bhttp::field::retry_after, "1");
  r->res.body() = std::move(body.body);
  r->res.prepare_payload();
  r->res.keep_alive(false);
  r->stream.expires_after(kLingerTime);
  bhttp::async_write(r->stream, r->res, [r](beast::error_code ec, size_t) {
    if (ec) return;
    r->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    r->stream.async_read_some(net::buffer(r->drain), [r](beast::error_code, size_t) {});
  });
}

void HttpServer::Impl::Unregister(Session* s, const std::string& peer) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(s);
    if (auto it = per_peer_.find(peer); it != per_peer_.end() && --it->second == 0) {
      per_peer_.erase(it);
    }
    --open_;
  }
  cv_.notify_all();
}

void HttpServer::Impl::Stop() {
  std::lock_guard<std::mutex> stop_lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  stopping_.store(true, std::memory_order_release);
  auto each_session = [this](auto fn) {
    std::vector<std::shared_ptr<Session>> live;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [raw, weak] : sessions_) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    for (auto& s : live) net::post(s->executor(), [s, fn] { fn(*s); });
  };
  if (!io_threads_.empty()) {
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ec;
      acceptor_.close(ec);
      accept_retry_.cancel();
    });
    each_session([](Session& s) { s.OnStop(); });
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, options_.shutdown_grace, [this] { return open_.load() == 0; })) {
      hard_stop_.store(true, std::memory_order_release);
      lock.unlock();
      each_session([](Session& s) { s.HardClose(); });
    }
  }
  // Handlers finish (their answers find closed sessions and are dropped), then the I/O
  // threads end once nothing is left to do.
  if (workers_) workers_->join();
  if (blocking_) blocking_->join();
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(2), [this] { return open_.load() == 0; });
  }
  guard_.reset();
  ioc_.stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const ListenAddress& address,
                                                      ServerOptions options, Router router,
                                                      int* bind_errno) {
  if (bind_errno) *bind_errno = 0;
  auto impl = std::make_unique<Impl>(std::move(options), std::move(router));
  if (auto r = impl->Listen(address, bind_errno); !r) return tl::unexpected(r.error());
  if (auto r = impl->StartThreads(); !r) {
    impl->Stop();
    return tl::unexpected(r.error());
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->port_; }
const std::string& HttpServer::host() const { return impl_->host_; }

HttpServer::Stats HttpServer::stats() const {
  Stats s;
  s.accepted = impl_->accepted_.load();
  s.refused = impl_->refused_.load();
  s.requests = impl_->requests_.load();
  s.header_timeouts = impl_->header_timeouts_.load();
  s.idle_timeouts = impl_->idle_timeouts_.load();
  s.open = impl_->open_.load();
  return s;
}

void HttpServer::Stop() { impl_->Stop(); }

}  // namespace volley::http
