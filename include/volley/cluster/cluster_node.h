// Cluster mode (DESIGN.md §5, seed 002): a node that joins the other nodes of a static list,
// elects one coordinator with Raft (libraft, its bytes tunnelled through the gRPC node
// protocol on one port) and reports its role. Opt-in: nothing here runs, and no cluster port
// is opened, unless `volley node` is started with CLUSTER_ENABLED=true.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/result.h"

namespace volley::cluster {

// How a node joins: everything comes from the environment (ClusterOptionsFromEnv) or a test.
struct ClusterOptions {
  std::string node_id;                     // CLUSTER_NODE_ID, else hostname + "-" + region
  std::string region = "local";            // CLUSTER_REGION
  std::string bind_addr = "0.0.0.0:7000";  // CLUSTER_BIND_ADDR: gRPC, and Raft inside it
  // CLUSTER_SELF_ADDR: the address the other nodes reach this one at (behind NAT, in a
  // container); empty = bind_addr when it is not a wildcard, else hostname:port.
  std::string self_addr;
  std::string discovery = "static";  // DISCOVERY_MODE: static | consul
  std::vector<std::string> nodes;    // CLUSTER_NODES: host:port of every member
  std::string data_dir;              // CLUSTER_DATA_DIR: Raft log and snapshots
  size_t voters = 5;                 // CLUSTER_VOTERS: the others are standbys
  // CLUSTER_MIN_PEERS: members (this one included) the leader must be in touch with to
  // report cluster_ready; 0 = a majority of the voters.
  size_t min_peers = 0;
  // Randomized by Raft between 1x and 2x: a dead leader is replaced in about 0.5-1.2 s.
  std::chrono::milliseconds election_timeout{500};   // CLUSTER_ELECTION_TIMEOUT
  std::chrono::milliseconds heartbeat_interval{50};  // CLUSTER_HEARTBEAT_INTERVAL
  // A voter silent for longer than this is replaced by a standby (CLUSTER_PROMOTE_AFTER).
  std::chrono::milliseconds promote_after{5000};
  std::string token;                      // CLUSTER_TOKEN; never logged or reported
  std::string tls_cert, tls_key, tls_ca;  // CLUSTER_TLS_CERT / _KEY / _CA (mTLS)
  bool insecure = false;                  // CLUSTER_INSECURE: allow a bare non-loopback bind
};

// The seed's /health/cluster state. A standby reports kFollower (its membership says more).
enum class Role { kForming, kFollower, kLeader };
const char* RoleName(Role role);  // "forming", "follower", "leader"

struct MemberStatus {
  std::string node_id;
  std::string address;
  std::string region;
  std::string membership;  // "voter" | "standby" | "spare"
  // Time since bytes last arrived from it (the leader knows all; a follower the leader).
  std::optional<std::chrono::milliseconds> last_contact;
  // The longest silence between two frames from it on one tunnel since this node started:
  // on a healthy cluster, about one heartbeat interval (the worst heartbeat gap).
  std::optional<std::chrono::milliseconds> max_silence;
};

// A consistent copy of the node's cluster view.
struct ClusterStatus {
  Role state = Role::kForming;
  std::string node_id, region, address;
  std::string leader_id;  // empty while no leader is known
  uint64_t term = 0;
  size_t peers = 0;            // members of the configuration, this node included
  bool cluster_ready = false;  // a leader is known and has committed an entry of its term
  bool coordinator = false;    // this node leads and has committed an entry of its term
  std::vector<MemberStatus> members;
  uint64_t elections = 0;  // elections this node started (candidate transitions)
  uint64_t term_changes = 0;
  uint64_t refused_peers = 0;   // handshakes refused: token, version, unknown member
  uint64_t last_log_index = 0;  // this node's Raft log (kept across restarts)
  uint64_t commit_index = 0;
};

// GET /health/cluster: the seed's fields (state, node_id, leader_id, term, peers,
// cluster_ready) and region, address, voters, standbys (with last contact in ms).
std::string ClusterHealthJson(const ClusterStatus& status);

// What the layers above (Cluster II's RunAgent) plug into a node, fixed at Start so that
// nothing Raft applies or restores while starting is missed. Each may be empty.
struct ClusterHooks {
  // Every applied entry of a type >= 256, in log order, on the Raft thread (must not
  // block), on every node. A restarted node sees the entries after its last snapshot again.
  std::function<void(uint16_t type, std::string_view payload, uint64_t index)> apply;
  // The user state to put into a Raft snapshot (Raft thread), and the state a snapshot
  // carried, handed back when a node restores one (Raft thread; at start-up, or when it
  // catches up from the leader's snapshot): afterwards only later entries are applied.
  std::function<std::string()> snapshot;
  std::function<void(std::string_view state)> restore;
  // On the coordinator: a plan submitted here or forwarded by a follower (a gRPC thread or
  // the caller's; it may block for a commit). Returns the run id, or kInvalidArgument with
  // the validator's positioned problems.
  using SubmitFn =
      std::function<Result<std::string>(const std::string& yaml, const std::string& name)>;
  SubmitFn submit;
};

// One exchange with the leader's wall clock (clock_offset.h's ClockSample, in Unix and
// local steady nanoseconds).
struct LeaderClockSample {
  int64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
};

// One cluster member. Thread-safe: every method may be called from any thread. Raft runs on
// a thread and libuv loop of its own; gRPC on its own threads, ahead of the load's workers.
class ClusterNode {
 public:
  // Validates `options` (kInvalidArgument with every problem, e.g. a non-loopback bind
  // without token or mTLS and without `insecure`), creates the data directory, binds
  // `bind_addr` and starts joining. Returns once the port listens; formation goes on in the
  // background (Status() shows it). kIo when the port cannot be bound.
  static Result<std::unique_ptr<ClusterNode>> Start(ClusterOptions options,
                                                    ClusterHooks hooks = {});
  virtual ~ClusterNode() = default;  // stops as Stop() does

  virtual ClusterStatus Status() const = 0;
  // The port actually bound (bind_addr may say 0).
  virtual uint16_t port() const = 0;
  // Leaves the loop and closes the port; Raft state stays on disk. Idempotent.
  virtual void Stop() = 0;

  // For Cluster II/III: commits `payload` as a log entry of `type` (>= 256; entries are
  // framed with their type and true length and padded to 8 bytes) when this node is the
  // coordinator. `done` runs once, on the Raft thread (it must not block), with the entry's
  // log index once it is committed and applied here, or the reason it was not (not the
  // coordinator; leadership lost). Any thread may call it.
  virtual void Propose(uint16_t type, std::string payload,
                       std::function<void(Result<uint64_t>)> done) = 0;

  // For Cluster II/III: `fn` sees every applied entry of a type >= 256, in log order, on
  // the Raft thread, on every node (the leader included). Set it before the entries that
  // matter are applied: earlier ones are not replayed. Any thread may call it.
  // NOTE for Cluster II: Raft snapshots (libraft's default: every 1024 entries) carry only
  // the cluster's own state (member identities, last coordinator). A node that catches up
  // from a snapshot does not see older user entries; the state they build needs a
  // snapshot/restore hook here before it may rely on the log alone.
  virtual void SetApplyObserver(
      std::function<void(uint16_t type, std::string_view payload, uint64_t index)> fn) = 0;

  // Cluster II, on any node: the coordinator's hooks.submit, called here when this node
  // coordinates, else over gRPC on the leader (authenticated as a tunnel). Blocks up to
  // `timeout`. kInvalidArgument (problems) from the validator; kIo when no leader is known
  // or it cannot be reached; kTimeout. Any thread except the Raft thread.
  virtual Result<std::string> SubmitPlan(const std::string& yaml, const std::string& name,
                                         std::chrono::milliseconds timeout) = 0;
  // Cluster II, on any node: Propose on the coordinator (locally or over gRPC), waiting for
  // the commit. Same errors and threads as SubmitPlan.
  virtual Result<uint64_t> ProposeOnLeader(uint16_t type, std::string payload,
                                           std::chrono::milliseconds timeout) = 0;
  // One exchange with the leader's wall clock (t0/t3: MonotonicNow here, t1/t2: the
  // leader's Unix time). On the leader itself, t1 = t2 = its wall clock read between.
  // Any thread except the Raft thread.
  virtual Result<LeaderClockSample> SampleLeaderClock(std::chrono::milliseconds timeout) = 0;
};

}  // namespace volley::cluster
