// gRPC implementation of TunnelHub (see tunnel_hub.h). Each tunnel uses two threads: the
// one that reads the gRPC stream into the socketpair (a gRPC server thread, or the thread
// Connect starts) and a writer that reads the socketpair into the stream.
#include "tunnel_hub.h"

#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <list>
#include <mutex>
#include <set>
#include <thread>

#include "volley/common/clock.h"
#include "volley/v1/node.grpc.pb.h"

namespace volley::cluster {
namespace {

using Clock = std::chrono::steady_clock;
using v1::TunnelFrame;

constexpr size_t kChunk = 64 * 1024;
constexpr int kMaxMessage = 1 << 20;
constexpr size_t kMaxLogged = 4096;  // distinct (address, reason) lines; then silence

// Calls a function at a deadline unless disarmed first; one thread for all of them.
class Deadlines {
 public:
  Deadlines() : thread_([this] { Run(); }) {}
  ~Deadlines() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  uint64_t Arm(Clock::time_point at, std::function<void()> fn) {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t id = ++next_;
    pending_.emplace(std::make_pair(at, id), std::move(fn));
    cv_.notify_all();
    return id;
  }
  // After Disarm returns, the function is not running and will not run.
  void Disarm(uint64_t id) {
    std::unique_lock<std::mutex> lock(mu_);
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
      if (it->first.second == id) {
        pending_.erase(it);
        return;
      }
    }
    cv_.wait(lock, [&] { return running_ != id; });
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      if (pending_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto first = pending_.begin();
      // A copy: the entry may be disarmed (erased) while this thread waits unlocked.
      const Clock::time_point at = first->first.first;
      if (Clock::now() < at) {
        cv_.wait_until(lock, at);
        continue;
      }
      auto fn = std::move(first->second);
      running_ = first->first.second;
      pending_.erase(first);
      lock.unlock();
      fn();
      lock.lock();
      running_ = 0;
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::pair<Clock::time_point, uint64_t>, std::function<void()>> pending_;
  uint64_t next_ = 0, running_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

// gRPC logs every failed TLS handshake; a peer with a foreign certificate retries every
// few hundred ms. Each distinct message (digits ignored: ports, fds) is printed once.
// Process-wide: gRPC has one log function.
void OnceGrpcLog(gpr_log_func_args* args) {
  if (args->severity < GPR_LOG_SEVERITY_ERROR) return;
  std::string key(args->message);
  for (char& c : key) {
    if (c >= '0' && c <= '9') c = '#';
  }
  static std::mutex mu;
  static std::set<std::string> seen;
  std::lock_guard<std::mutex> lock(mu);
  if (seen.size() >= 1000 || !seen.insert(key).second) return;
  fprintf(stderr, "volley cluster: grpc: %s (further identical messages are not shown)\n",
          args->message);
}

// Raft's bytes go ahead of the load's workers on a saturated machine (issue 12 §8): the
// threads that move them run at nice -10 when the process may raise priority (root or
// CAP_SYS_NICE); otherwise they stay at the default.
void RaisePriority() { setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), -10); }

bool WriteAll(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

class HubImpl;

int64_t UnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

grpc::Status ToStatus(const Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalidArgument:
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, e.message);
    case ErrorCode::kTimeout:
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, e.message);
    default:
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, e.message);
  }
}

Error FromStatus(const std::string& address, const grpc::Status& s) {
  switch (s.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      return Error{ErrorCode::kInvalidArgument, s.error_message()};
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Error{ErrorCode::kTimeout, address + ": no answer in time: " + s.error_message()};
    default:
      return Error{ErrorCode::kIo, address + ": " + s.error_message()};
  }
}

class NodeService final : public v1::Node::Service {
 public:
  explicit NodeService(HubImpl* hub) : hub_(hub) {}
  grpc::Status RaftTunnel(grpc::ServerContext* ctx,
                          grpc::ServerReaderWriter<TunnelFrame, TunnelFrame>* stream) override;
  grpc::Status SubmitPlan(grpc::ServerContext* ctx, const v1::SubmitPlanRequest* req,
                          v1::SubmitPlanReply* reply) override;
  grpc::Status Propose(grpc::ServerContext* ctx, const v1::ProposeRequest* req,
                       v1::ProposeReply* reply) override;
  grpc::Status ClockSample(grpc::ServerContext* ctx, const v1::ClockSampleRequest* req,
                           v1::ClockSampleReply* reply) override;

 private:
  HubImpl* hub_;
};

class HubImpl final : public TunnelHub {
 public:
  explicit HubImpl(TunnelHubOptions o) : options_(std::move(o)), service_(this) {}

  Result<void> Listen() {
    grpc::ServerBuilder builder;
    std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
    if (Tls()) {
      grpc::SslServerCredentialsOptions ssl(
          GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
      ssl.pem_root_certs = options_.tls_ca_pem;
      ssl.pem_key_cert_pairs.push_back({options_.tls_key_pem, options_.tls_cert_pem});
      creds = grpc::SslServerCredentials(ssl);
    }
    int selected = 0;
    builder.AddListeningPort(options_.bind_addr, creds, &selected);
    builder.RegisterService(&service_);
    builder.SetMaxReceiveMessageSize(kMaxMessage);
    grpc::ResourceQuota quota("volley-cluster");
    quota.SetMaxThreads(128);
    quota.Resize(64 << 20);
    builder.SetResourceQuota(quota);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 2000);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 2000);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 500);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
    builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, 5000);
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 16);
    server_ = builder.BuildAndStart();
    if (!server_ || selected == 0) {
      return MakeError(ErrorCode::kIo, "cannot listen on " + options_.bind_addr +
                                           " (CLUSTER_BIND_ADDR): in use, or not an address "
                                           "of this machine; choose another port");
    }
    port_ = static_cast<uint16_t>(selected);
    return {};
  }

  void SetAcceptHandler(std::function<void(TunnelPeer)> handler) override {
    std::lock_guard<std::mutex> lock(mu_);
    accept_ = std::move(handler);
  }

  void Connect(uint64_t raft_id, const std::string& address,
               std::function<void(Result<TunnelPeer>)> done) override {
    std::lock_guard<std::mutex> lock(mu_);
    ReapLocked();
    if (stopping_) {
      done(MakeError(ErrorCode::kIo, "the cluster node is stopping"));
      return;
    }
    auto channel = ChannelLocked(address);
    auto finished = std::make_shared<std::atomic<bool>>(false);
    threads_.push_back({std::thread([this, raft_id, address, channel, done, finished] {
                          RaisePriority();
                          RunClient(raft_id, address, channel, done);
                          finished->store(true);
                        }),
                        finished});
  }

  uint16_t port() const override { return port_; }

  void SetRpcHandlers(RpcHandlers handlers) override {
    std::lock_guard<std::mutex> lock(mu_);
    rpc_ = std::move(handlers);
  }

  Result<std::string> CallSubmitPlan(const std::string& address, const std::string& yaml,
                                     const std::string& name,
                                     std::chrono::milliseconds timeout) override {
    v1::SubmitPlanRequest req;
    FillHello(req.mutable_hello(), 0);
    req.set_plan_yaml(yaml);
    req.set_plan_name(name);
    v1::SubmitPlanReply reply;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout);
    auto stub = v1::Node::NewStub(Channel(address));
    const grpc::Status s = stub->SubmitPlan(&ctx, req, &reply);
    if (!s.ok()) return tl::unexpected(FromStatus(address, s));
    return reply.run_id();
  }

  Result<uint64_t> CallPropose(const std::string& address, uint16_t type,
                               const std::string& payload,
                               std::chrono::milliseconds timeout) override {
    v1::ProposeRequest req;
    FillHello(req.mutable_hello(), 0);
    req.set_type(type);
    req.set_payload(payload);
    v1::ProposeReply reply;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout);
    auto stub = v1::Node::NewStub(Channel(address));
    const grpc::Status s = stub->Propose(&ctx, req, &reply);
    if (!s.ok()) return tl::unexpected(FromStatus(address, s));
    return reply.index();
  }

  Result<LeaderClockSample> CallClockSample(const std::string& address,
                                            std::chrono::milliseconds timeout) override {
    v1::ClockSampleRequest req;
    FillHello(req.mutable_hello(), 0);
    v1::ClockSampleReply reply;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout);
    auto stub = v1::Node::NewStub(Channel(address));
    LeaderClockSample out;
    out.t0 = MonotonicNow().count();
    const grpc::Status s = stub->ClockSample(&ctx, req, &reply);
    out.t3 = MonotonicNow().count();
    if (!s.ok()) return tl::unexpected(FromStatus(address, s));
    out.t1 = reply.receive_unix_nanos();
    out.t2 = reply.send_unix_nanos();
    return out;
  }

  // The server side of the unary RPCs: the caller's Hello first, as a tunnel's.
  grpc::Status CheckCaller(grpc::ServerContext* ctx, const v1::Hello& hello) {
    Refusal why = Refusal::kMalformed;
    auto peer = CheckHello(hello, options_.policy, &why);
    if (peer) return grpc::Status::OK;
    NoteRefusal(ctx->peer(), why, peer.error().message);
    return grpc::Status(why == Refusal::kToken ? grpc::StatusCode::UNAUTHENTICATED
                                               : grpc::StatusCode::PERMISSION_DENIED,
                        peer.error().message);
  }
  RpcHandlers Handlers() {
    std::lock_guard<std::mutex> lock(mu_);
    return rpc_;
  }

  std::map<uint64_t, PeerContact> Contacts() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return contacts_;
  }
  std::map<uint64_t, PeerIdentity> Identities() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return identities_;
  }
  uint64_t refused() const override { return refused_.load(); }

  void Shutdown() override {
    std::list<Worker> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      stopping_ = true;
      for (auto& [id, cancel] : cancels_) cancel();
    }
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(threads_);
    }
    for (auto& w : threads) w.thread.join();
    if (server_) server_->Wait();
    std::lock_guard<std::mutex> lock(mu_);
    channels_.clear();
  }

  ~HubImpl() override { Shutdown(); }

  // The accepting side of one tunnel (a gRPC server thread).
  grpc::Status Serve(grpc::ServerContext* ctx,
                     grpc::ServerReaderWriter<TunnelFrame, TunnelFrame>* stream) {
    const uint64_t cancel_id = Register([ctx] { ctx->TryCancel(); });
    if (cancel_id == 0) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "node is stopping");
    RaisePriority();  // a gRPC server thread: it stays raised, and serves only tunnels
    struct Unregister {
      HubImpl* hub;
      uint64_t id;
      ~Unregister() { hub->Unregister(id); }
    } unregister{this, cancel_id};
    const uint64_t timer =
        deadlines_.Arm(Clock::now() + options_.handshake_timeout, [ctx] { ctx->TryCancel(); });
    TunnelFrame first;
    const bool got = stream->Read(&first);
    deadlines_.Disarm(timer);
    if (!got) return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "no hello in time");
    Refusal why = Refusal::kMalformed;
    Result<PeerIdentity> peer =
        first.has_hello()
            ? CheckHello(first.hello(), options_.policy, &why)
            : MakeError(ErrorCode::kProtocol, "the first frame of a tunnel must be a Hello");
    if (!peer) {
      NoteRefusal(ctx->peer(), why, peer.error().message);
      const auto code = why == Refusal::kToken     ? grpc::StatusCode::UNAUTHENTICATED
                        : why == Refusal::kVersion ? grpc::StatusCode::FAILED_PRECONDITION
                                                   : grpc::StatusCode::PERMISSION_DENIED;
      return grpc::Status(code, peer.error().message);
    }
    TunnelFrame welcome;
    auto* w = welcome.mutable_welcome();
    w->set_protocol_version(kProtocolVersion);
    w->set_software_version(kSoftwareVersion);
    w->set_node_id(options_.self.node_id);
    w->set_raft_id(options_.self.raft_id);
    w->set_region(options_.self.region);
    w->set_address(options_.self.address);
    if (!stream->Write(welcome)) return grpc::Status(grpc::StatusCode::CANCELLED, "gone");
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "socketpair failed");
    }
    std::function<void(TunnelPeer)> accept;
    {
      std::lock_guard<std::mutex> lock(mu_);
      identities_[peer->raft_id] = *peer;
      accept = accept_;
    }
    if (!accept) {
      close(fds[0]);
      close(fds[1]);
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "Raft is not listening yet");
    }
    accept(TunnelPeer{*peer, fds[0]});
    Pump(stream, fds[1], peer->raft_id, [ctx] { ctx->TryCancel(); });
    return grpc::Status::OK;
  }

 private:
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished;
  };

  bool Tls() const { return !options_.tls_cert_pem.empty(); }

  void FillHello(v1::Hello* h, uint64_t expect_raft_id) const {
    h->set_protocol_version(kProtocolVersion);
    h->set_software_version(kSoftwareVersion);
    h->set_node_id(options_.self.node_id);
    h->set_raft_id(options_.self.raft_id);
    h->set_region(options_.self.region);
    h->set_address(options_.self.address);
    h->set_token(options_.token);
    h->set_expect_raft_id(expect_raft_id);
  }

  std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
    std::lock_guard<std::mutex> lock(mu_);
    return ChannelLocked(address);
  }

  std::shared_ptr<grpc::Channel> ChannelLocked(const std::string& address) {
    auto& ch = channels_[address];
    if (ch) return ch;
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
    if (Tls()) {
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = options_.tls_ca_pem;
      ssl.pem_private_key = options_.tls_key_pem;
      ssl.pem_cert_chain = options_.tls_cert_pem;
      creds = grpc::SslCredentials(ssl);
    }
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 2000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 2000);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    args.SetMaxReceiveMessageSize(kMaxMessage);
    // One channel per peer, never shared with another channel (no subchannel pooling).
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    ch = grpc::CreateCustomChannel(address, creds, args);
    return ch;
  }

  // A channel that failed is dropped, so the next attempt (Raft retries every 200 ms)
  // dials at once instead of waiting out gRPC's reconnect backoff: a restarted peer is
  // reached as soon as it listens, which matters most during an election.
  void ForgetChannel(const std::string& address, const std::shared_ptr<grpc::Channel>& ch) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = channels_.find(address);
    if (it != channels_.end() && it->second == ch) channels_.erase(it);
  }

  void RunClient(uint64_t raft_id, const std::string& address,
                 std::shared_ptr<grpc::Channel> channel,
                 const std::function<void(Result<TunnelPeer>)>& done) {
    grpc::ClientContext ctx;
    const uint64_t cancel_id = Register([&ctx] { ctx.TryCancel(); });
    if (cancel_id == 0) return done(MakeError(ErrorCode::kIo, "the cluster node is stopping"));
    struct Unregister {
      HubImpl* hub;
      uint64_t id;
      ~Unregister() { hub->Unregister(id); }
    } unregister{this, cancel_id};
    auto stub = v1::Node::NewStub(channel);
    auto stream = stub->RaftTunnel(&ctx);
    const uint64_t timer =
        deadlines_.Arm(Clock::now() + options_.handshake_timeout, [&ctx] { ctx.TryCancel(); });
    TunnelFrame hello;
    FillHello(hello.mutable_hello(), raft_id);
    TunnelFrame answer;
    const bool ok = stream->Write(hello) && stream->Read(&answer);
    deadlines_.Disarm(timer);
    if (!ok || !answer.has_welcome()) {
      stream->WritesDone();
      const grpc::Status status = stream->Finish();
      std::string why = status.ok() ? "no welcome" : status.error_message();
      if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
          status.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
          status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
        NoteRefusedBy(address, why);
      } else {
        NoteUnreachable(address, status.error_code(), why);
        // Only a peer that is down (refused at once, cheap to redial). A TLS failure keeps
        // its channel and gRPC's backoff, so a misconfigured peer cannot make every member
        // run a TLS handshake every 200 ms; a handshake cut short by our own timeout may
        // finish in the background.
        if (status.error_code() == grpc::StatusCode::UNAVAILABLE &&
            why.find("Connection refused") != std::string::npos) {
          ForgetChannel(address, channel);
        }
      }
      return done(MakeError(ErrorCode::kIo, address + ": " + why));
    }
    auto peer = CheckWelcome(answer.welcome(), raft_id);
    if (!peer) {
      NoteRefusedBy(address, peer.error().message);
      ctx.TryCancel();
      stream->Finish();
      return done(tl::unexpected(peer.error()));
    }
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      ctx.TryCancel();
      stream->Finish();
      return done(MakeError(ErrorCode::kIo, "socketpair failed"));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      identities_[peer->raft_id] = *peer;
    }
    done(TunnelPeer{*peer, fds[0]});
    Pump(stream.get(), fds[1], raft_id, [&ctx] { ctx.TryCancel(); });
    stream->Finish();
  }

  // Moves bytes both ways until either side ends, then closes `fd` (libraft sees EOF).
  template <typename Stream>
  void Pump(Stream* stream, int fd, uint64_t peer, const std::function<void()>& cancel) {
    std::thread writer([stream, fd, &cancel] {
      RaisePriority();
      std::string buf(kChunk, '\0');
      TunnelFrame frame;
      for (;;) {
        const ssize_t n = read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        frame.set_raft_bytes(buf.data(), static_cast<size_t>(n));
        if (!stream->Write(frame)) break;
      }
      cancel();
    });
    TunnelFrame frame;
    Clock::time_point last{};
    while (stream->Read(&frame) && frame.kind_case() == TunnelFrame::kRaftBytes) {
      const auto now = Clock::now();
      {
        std::lock_guard<std::mutex> lock(mu_);
        PeerContact& c = contacts_[peer];
        c.last_bytes = now;
        if (last != Clock::time_point{}) {
          c.max_gap = std::max(c.max_gap,
                               std::chrono::duration_cast<std::chrono::milliseconds>(now - last));
        }
      }
      last = now;
      if (!WriteAll(fd, frame.raft_bytes())) break;
    }
    cancel();
    shutdown(fd, SHUT_RDWR);
    writer.join();
    close(fd);
  }

  uint64_t Register(std::function<void()> cancel) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return 0;
    const uint64_t id = ++next_cancel_;
    cancels_[id] = std::move(cancel);
    return id;
  }
  void Unregister(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    cancels_.erase(id);
  }

  void ReapLocked() {
    for (auto it = threads_.begin(); it != threads_.end();) {
      if (it->finished->load()) {
        it->thread.join();
        it = threads_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // A refused caller: counted every time, logged once per (host, reason). Never the token.
  void NoteRefusal(const std::string& grpc_peer, Refusal why, const std::string& message) {
    refused_.fetch_add(1);
    std::string host = grpc_peer;
    const size_t colon = host.rfind(':');
    if (colon != std::string::npos) host.resize(colon);
    std::lock_guard<std::mutex> lock(mu_);
    if (logged_.size() < kMaxLogged && logged_.insert(host + "|" + RefusalName(why)).second) {
      fprintf(stderr, "volley cluster: refused a peer from %s (%s): %s\n", host.c_str(),
              RefusalName(why), message.c_str());
    }
  }
  void NoteRefusedBy(const std::string& address, const std::string& message) {
    std::lock_guard<std::mutex> lock(mu_);
    if (logged_.size() < kMaxLogged && logged_.insert("by|" + address).second) {
      fprintf(stderr, "volley cluster: %s refused this node: %s\n", address.c_str(),
              message.c_str());
    }
  }

  // A failed connection, logged once per (address, status code): a peer that is down is
  // retried every 200 ms.
  void NoteUnreachable(const std::string& address, grpc::StatusCode code,
                       const std::string& message) {
    std::lock_guard<std::mutex> lock(mu_);
    if (logged_.size() < kMaxLogged &&
        logged_.insert("down|" + address + "|" + std::to_string(code)).second) {
      fprintf(stderr, "volley cluster: cannot open a tunnel to %s (retrying): %s\n",
              address.c_str(), message.c_str());
    }
  }

  const TunnelHubOptions options_;
  NodeService service_;
  Deadlines deadlines_;
  std::unique_ptr<grpc::Server> server_;
  uint16_t port_ = 0;
  std::atomic<uint64_t> refused_{0};

  mutable std::mutex mu_;
  // Guarded by mu_:
  std::function<void(TunnelPeer)> accept_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::map<uint64_t, std::function<void()>> cancels_;
  uint64_t next_cancel_ = 0;
  std::list<Worker> threads_;
  std::map<uint64_t, PeerContact> contacts_;
  std::map<uint64_t, PeerIdentity> identities_;
  std::set<std::string> logged_;
  RpcHandlers rpc_;
  bool stopping_ = false;
};

grpc::Status NodeService::RaftTunnel(grpc::ServerContext* ctx,
                                     grpc::ServerReaderWriter<TunnelFrame, TunnelFrame>* stream) {
  return hub_->Serve(ctx, stream);
}

grpc::Status NodeService::SubmitPlan(grpc::ServerContext* ctx, const v1::SubmitPlanRequest* req,
                                     v1::SubmitPlanReply* reply) {
  if (auto s = hub_->CheckCaller(ctx, req->hello()); !s.ok()) return s;
  auto submit = hub_->Handlers().submit;
  if (!submit) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "runs are not served here");
  auto r = submit(req->plan_yaml(), req->plan_name());
  if (!r) return ToStatus(r.error());
  reply->set_run_id(*r);
  return grpc::Status::OK;
}

grpc::Status NodeService::Propose(grpc::ServerContext* ctx, const v1::ProposeRequest* req,
                                  v1::ProposeReply* reply) {
  if (auto s = hub_->CheckCaller(ctx, req->hello()); !s.ok()) return s;
  auto propose = hub_->Handlers().propose;
  if (!propose) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "not serving proposals");
  if (req->type() < 256 || req->type() > 0xffff) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "entry type must be 256..65535");
  }
  auto r = propose(static_cast<uint16_t>(req->type()), req->payload());
  if (!r) return ToStatus(r.error());
  reply->set_index(*r);
  return grpc::Status::OK;
}

grpc::Status NodeService::ClockSample(grpc::ServerContext* ctx, const v1::ClockSampleRequest* req,
                                      v1::ClockSampleReply* reply) {
  const int64_t received = UnixNanos();
  if (auto s = hub_->CheckCaller(ctx, req->hello()); !s.ok()) return s;
  reply->set_receive_unix_nanos(received);
  reply->set_send_unix_nanos(UnixNanos());
  return grpc::Status::OK;
}

}  // namespace

Result<std::unique_ptr<TunnelHub>> TunnelHub::Start(TunnelHubOptions options) {
  static std::once_flag log_once;
  std::call_once(log_once, [] { gpr_set_log_function(&OnceGrpcLog); });
  auto hub = std::make_unique<HubImpl>(std::move(options));
  if (auto r = hub->Listen(); !r) return tl::unexpected(r.error());
  return std::unique_ptr<TunnelHub>(std::move(hub));
}

}  // namespace volley::cluster
