// The gRPC side of the cluster port: a server whose RaftTunnel calls each carry one
// libraft connection, and the client that opens them (proto/volley/v1/node.proto). Every
// tunnel starts with a Hello/Welcome handshake (handshake.h), then hands one end of a
// socketpair to libraft and pumps the other end to and from the gRPC stream.
//
// No gRPC types appear here, so only tunnel_hub.cc compiles gRPC's headers.
// Thread-safe: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "handshake.h"
#include "volley/cluster/cluster_node.h"
#include "volley/common/result.h"

namespace volley::cluster {

// One end of a tunnel's socketpair, owned by whoever holds it (close it when done).
struct TunnelPeer {
  PeerIdentity identity;
  int fd = -1;
};

// What the pumps saw of a peer (any of its tunnels).
struct PeerContact {
  std::chrono::steady_clock::time_point last_bytes;  // last raft bytes from it
  std::chrono::milliseconds max_gap{0};  // longest silence between two frames of a tunnel
};

struct TunnelHubOptions {
  std::string bind_addr;                              // host:port (port 0 = ephemeral)
  PeerIdentity self;                                  // sent in Hello and Welcome
  HandshakePolicy policy;                             // what callers must satisfy
  std::string token;                                  // sent in our Hello; never logged
  std::string tls_cert_pem, tls_key_pem, tls_ca_pem;  // all three or none (then plaintext)
  // Hello → Welcome, including TCP and TLS handshakes on a new channel: generous, since a
  // saturated machine (or a sanitizer build) can take seconds; silent callers are cut off.
  std::chrono::milliseconds handshake_timeout{10000};
};

// What this node answers to Cluster II's unary RPCs (SubmitPlan, Propose). Called on gRPC
// threads, after the caller's Hello passed CheckHello; may block. Empty = UNAVAILABLE.
struct RpcHandlers {
  std::function<Result<std::string>(const std::string& yaml, const std::string& name)> submit;
  std::function<Result<uint64_t>(uint16_t type, std::string payload)> propose;
};

class TunnelHub {
 public:
  // Binds and starts serving. kIo naming the address when it cannot be bound.
  static Result<std::unique_ptr<TunnelHub>> Start(TunnelHubOptions options);
  virtual ~TunnelHub() = default;  // Shutdown() first

  // Receives every accepted tunnel (on a gRPC thread); must take ownership of the fd
  // quickly. Until it is set, accepted tunnels are closed. REQUIRES: set before Shutdown.
  virtual void SetAcceptHandler(std::function<void(TunnelPeer)> handler) = 0;

  // Opens a tunnel to `address`, which must be the member `raft_id`. `done` is called once,
  // on another thread, with the local fd or the reason (a refusal's message verbatim).
  virtual void Connect(uint64_t raft_id, const std::string& address,
                       std::function<void(Result<TunnelPeer>)> done) = 0;

  // REQUIRES: set before Shutdown.
  virtual void SetRpcHandlers(RpcHandlers handlers) = 0;
  // Cluster II's calls on the member at `address` (blocking, up to `timeout`; any thread).
  // The callee's errors come back with their code and message (kInvalidArgument with
  // problems, kIo for "not the coordinator" or an unreachable node, kTimeout).
  virtual Result<std::string> CallSubmitPlan(const std::string& address, const std::string& yaml,
                                             const std::string& name,
                                             std::chrono::milliseconds timeout) = 0;
  virtual Result<uint64_t> CallPropose(const std::string& address, uint16_t type,
                                       const std::string& payload,
                                       std::chrono::milliseconds timeout) = 0;
  virtual Result<LeaderClockSample> CallClockSample(const std::string& address,
                                                    std::chrono::milliseconds timeout) = 0;

  virtual uint16_t port() const = 0;
  virtual std::map<uint64_t, PeerContact> Contacts() const = 0;
  // Identities learned from handshakes, by Raft id.
  virtual std::map<uint64_t, PeerIdentity> Identities() const = 0;
  virtual uint64_t refused() const = 0;  // handshakes this node refused

  // Cancels every tunnel, stops the server and joins every thread it started. Idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace volley::cluster
