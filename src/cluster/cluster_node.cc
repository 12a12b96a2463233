// ClusterNode: the gRPC port (TunnelHub) and Raft (RaftHost) wired together.
#include "volley/cluster/cluster_node.h"

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <mutex>
#include <sstream>

#include "handshake.h"
#include "membership.h"
#include "raft_host.h"
#include "tunnel_hub.h"
#include "volley/cluster/cluster_env.h"
#include "volley/common/listen_address.h"

namespace volley::cluster {
namespace {

Result<std::string> ReadPem(const std::string& path, const char* variable) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  if (!in || s.str().empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(variable) + ": cannot read '" + path + "'");
  }
  return s.str();
}

class NodeImpl final : public ClusterNode {
 public:
  NodeImpl(std::unique_ptr<TunnelHub> hub, std::unique_ptr<RaftHost> raft,
           ClusterHooks::SubmitFn submit)
      : hub_(std::move(hub)), raft_(std::move(raft)), submit_(std::move(submit)) {
    RpcHandlers handlers;
    handlers.submit = [this](const std::string& yaml,
                             const std::string& name) -> Result<std::string> {
      if (!Status().coordinator) return NotCoordinator();
      if (!submit_) return NoRuns();
      return submit_(yaml, name);
    };
    handlers.propose = [this](uint16_t type, std::string payload) {
      return ProposeHere(type, std::move(payload), std::chrono::seconds(10));
    };
    hub_->SetRpcHandlers(std::move(handlers));
  }
  ~NodeImpl() override { Stop(); }

  ClusterStatus Status() const override { return raft_->Status(); }
  uint16_t port() const override { return hub_->port(); }

  void Stop() override {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopped_) return;
    stopped_ = true;
    raft_->Stop();
    hub_->Shutdown();
  }

  void Propose(uint16_t type, std::string payload,
               std::function<void(Result<uint64_t>)> done) override {
    raft_->Propose(type, std::move(payload), std::move(done));
  }
  void SetApplyObserver(std::function<void(uint16_t, std::string_view, uint64_t)> fn) override {
    raft_->SetApplyObserver(std::move(fn));
  }

  Result<std::string> SubmitPlan(const std::string& yaml, const std::string& name,
                                 std::chrono::milliseconds timeout) override {
    const ClusterStatus s = Status();
    if (s.coordinator) {
      if (!submit_) return NoRuns();
      return submit_(yaml, name);
    }
    auto leader = LeaderAddress(s);
    if (!leader) return tl::unexpected(leader.error());
    return hub_->CallSubmitPlan(*leader, yaml, name, timeout);
  }

  Result<uint64_t> ProposeOnLeader(uint16_t type, std::string payload,
                                   std::chrono::milliseconds timeout) override {
    const ClusterStatus s = Status();
    if (s.coordinator) return ProposeHere(type, std::move(payload), timeout);
    auto leader = LeaderAddress(s);
    if (!leader) return tl::unexpected(leader.error());
    return hub_->CallPropose(*leader, type, payload, timeout);
  }

  Result<LeaderClockSample> SampleLeaderClock(std::chrono::milliseconds timeout) override {
    const ClusterStatus s = Status();
    if (s.coordinator) {
      LeaderClockSample out;
      out.t0 = MonotonicNow().count();
      out.t1 = out.t2 = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
      out.t3 = MonotonicNow().count();
      return out;
    }
    auto leader = LeaderAddress(s);
    if (!leader) return tl::unexpected(leader.error());
    return hub_->CallClockSample(*leader, timeout);
  }

 private:
  static tl::unexpected<Error> NotCoordinator() {
    return MakeError(ErrorCode::kIo, "this node is not the coordinator (leadership moved); retry");
  }
  static tl::unexpected<Error> NoRuns() {
    return MakeError(ErrorCode::kIo, "the coordinator does not serve runs");
  }

  Result<std::string> LeaderAddress(const ClusterStatus& s) const {
    if (!s.cluster_ready || s.leader_id.empty()) {
      return MakeError(ErrorCode::kIo, "no coordinator is known yet (cluster state " +
                                           std::string(RoleName(s.state)) +
                                           "); retry once /health/cluster says cluster_ready");
    }
    for (const auto& m : s.members) {
      if (m.node_id == s.leader_id) return m.address;
    }
    return MakeError(ErrorCode::kIo, "the leader '" + s.leader_id + "' has no known address");
  }

  // Propose, waiting for the commit (never on the Raft thread: it would wait on itself).
  Result<uint64_t> ProposeHere(uint16_t type, std::string payload,
                               std::chrono::milliseconds timeout) {
    auto promise = std::make_shared<std::promise<Result<uint64_t>>>();
    auto future = promise->get_future();
    raft_->Propose(type, std::move(payload),
                   [promise](Result<uint64_t> r) { promise->set_value(std::move(r)); });
    if (future.wait_for(timeout) != std::future_status::ready) {
      return MakeError(ErrorCode::kTimeout, "the entry was not committed in time");
    }
    return future.get();
  }

  std::unique_ptr<TunnelHub> hub_;
  std::unique_ptr<RaftHost> raft_;
  const ClusterHooks::SubmitFn submit_;
  std::mutex stop_mu_;
  bool stopped_ = false;  // guarded by stop_mu_
};

}  // namespace

Result<std::unique_ptr<ClusterNode>> ClusterNode::Start(ClusterOptions options,
                                                        ClusterHooks hooks) {
  // A peer that dies mid-write must not kill this process (specs/cluster.md, pitfall 2).
  signal(SIGPIPE, SIG_IGN);
  if (auto r = ValidateClusterOptions(options); !r) return tl::unexpected(r.error());
  auto conf = InitialConfiguration(options.nodes, options.voters);
  if (!conf) return tl::unexpected(conf.error());
  auto self_addr = SelfAddress(options);
  if (!self_addr) return tl::unexpected(self_addr.error());
  auto bind = ParseListenAddress(options.bind_addr);
  if (!bind) return tl::unexpected(bind.error());
  const bool loopback = bind->host == "::1" || bind->host.rfind("127.", 0) == 0;
  if (!loopback && options.token.empty() && options.tls_cert.empty()) {
    fprintf(stderr,
            "volley cluster: WARNING: CLUSTER_INSECURE=true: %s accepts any peer that claims a "
            "listed address, with no token and no TLS\n",
            options.bind_addr.c_str());
  }

  TunnelHubOptions hub_options;
  hub_options.bind_addr =
      (bind->host.find(':') != std::string::npos ? "[" + bind->host + "]" : bind->host) + ":" +
      std::to_string(bind->port);
  hub_options.self =
      PeerIdentity{options.node_id, RaftIdFor(*self_addr), options.region, *self_addr};
  hub_options.policy = HandshakePolicy{options.token, *conf, hub_options.self.raft_id};
  hub_options.token = options.token;
  if (!options.tls_cert.empty()) {
    auto cert = ReadPem(options.tls_cert, "CLUSTER_TLS_CERT");
    auto key = ReadPem(options.tls_key, "CLUSTER_TLS_KEY");
    auto ca = ReadPem(options.tls_ca, "CLUSTER_TLS_CA");
    std::string problems;
    for (const auto* r : {&cert, &key, &ca}) {
      if (!*r) problems += (problems.empty() ? "" : "\n") + r->error().message;
    }
    if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems);
    hub_options.tls_cert_pem = *cert;
    hub_options.tls_key_pem = *key;
    hub_options.tls_ca_pem = *ca;
  }
  auto hub = TunnelHub::Start(std::move(hub_options));
  if (!hub) return tl::unexpected(hub.error());

  RaftHost::Options raft_options;
  raft_options.cluster = options;
  raft_options.configuration = *conf;
  raft_options.self =
      PeerIdentity{options.node_id, RaftIdFor(*self_addr), options.region, *self_addr};
  raft_options.hooks = hooks;
  auto raft = RaftHost::Start(std::move(raft_options), **hub);
  if (!raft) {
    (*hub)->Shutdown();
    return tl::unexpected(raft.error());
  }
  fprintf(stderr, "volley cluster: %s (region %s) listens on %s:%u as %s, %zu members%s\n",
          options.node_id.c_str(), options.region.c_str(), bind->host.c_str(), (*hub)->port(),
          self_addr->c_str(), conf->size(),
          !options.tls_cert.empty() ? ", mTLS"
          : options.token.empty()   ? ""
                                    : ", token");
  return std::unique_ptr<ClusterNode>(
      new NodeImpl(std::move(*hub), std::move(*raft), std::move(hooks.submit)));
}

}  // namespace volley::cluster
