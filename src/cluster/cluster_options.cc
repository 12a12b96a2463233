// CLUSTER_* environment → ClusterOptions, and the whole-options checks.
#include <unistd.h>

#include <charconv>

#include "membership.h"
#include "volley/cluster/cluster_env.h"
#include "volley/common/duration.h"
#include "volley/common/listen_address.h"
#include "volley/common/parse.h"
#include "volley/common/strings.h"

namespace volley::cluster {
namespace {

struct Doc {
  const char* name;
  const char* meaning;
};

constexpr Doc kDocs[] = {
    {"CLUSTER_ENABLED", "true = join a Raft cluster (default false: standalone, no cluster port)"},
    {"CLUSTER_BIND_ADDR", "gRPC + Raft listen address (0.0.0.0:7000)"},
    {"CLUSTER_SELF_ADDR",
     "address the other nodes reach this one at (NAT, containers); "
     "default: the bind address, or hostname:port for a wildcard"},
    {"CLUSTER_NODES", "static peer list host:port,host:port (must include this node)"},
    {"DISCOVERY_MODE",
     "static (CLUSTER_NODES) | consul (CONSUL_ADDR, CONSUL_SERVICE_NAME, CONSUL_HTTP_TOKEN, "
     "CONSUL_BOOTSTRAP_EXPECT, CONSUL_DEREGISTER_AFTER: see the README)"},
    {"CLUSTER_NODE_ID", "stable node identity (default: hostname-region)"},
    {"CLUSTER_REGION", "region label (local)"},
    {"CLUSTER_DATA_DIR", "Raft log and snapshots; keep it across restarts (./volley-cluster)"},
    {"CLUSTER_VOTERS", "at most this many voters, the others are standbys (5)"},
    {"CLUSTER_MIN_PEERS",
     "members (this one included) the leader must be in touch with before it reports "
     "cluster_ready (0 = a majority of the voters)"},
    {"CLUSTER_ELECTION_TIMEOUT", "Raft election timeout, randomized up to 2x (500ms)"},
    {"CLUSTER_HEARTBEAT_INTERVAL", "leader heartbeat interval (50ms)"},
    {"CLUSTER_PROMOTE_AFTER", "a voter silent this long is replaced by a standby (5s)"},
    {"CLUSTER_TOKEN", "shared secret every node must present (constant-time compare)"},
    {"CLUSTER_TLS_CERT", "PEM certificate of this node (mTLS, with _KEY and _CA)"},
    {"CLUSTER_TLS_KEY", "PEM private key of this node"},
    {"CLUSTER_TLS_CA", "PEM CA that signs every node's certificate (client certs required)"},
    {"CLUSTER_INSECURE", "true = allow a non-loopback bind without token or mTLS (warns)"},
};

class Problems {
 public:
  void Add(const std::string& name, const std::string& message) {
    text_ += (text_.empty() ? "" : "\n") + name + ": " + message;
  }
  template <typename T>
  bool Check(const char* name, const Result<T>& r) {
    if (!r) Add(name, r.error().message);
    return r.has_value();
  }
  Result<void> Done() const {
    if (text_.empty()) return {};
    return MakeError(ErrorCode::kInvalidArgument, text_);
  }

 private:
  std::string text_;
};

std::string Hostname() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0 && host[0]) return host;
  return "localhost";
}

Result<size_t> ParseCount(std::string_view text, size_t min) {
  std::string_view s = Trim(text);
  size_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || v < min) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "expected a whole number >= " + std::to_string(min) + ", got '" + std::string(text) + "'");
  }
  return v;
}

bool IsLoopback(const std::string& host) { return host == "::1" || host.rfind("127.", 0) == 0; }

}  // namespace

Result<bool> ClusterEnabledFromEnv(const config::EnvLookup& env) {
  const char* v = env("CLUSTER_ENABLED");
  if (v == nullptr) return false;
  auto b = ParseBool(v);
  if (!b) return MakeError(ErrorCode::kInvalidArgument, "CLUSTER_ENABLED: " + b.error().message);
  return *b;
}

Result<ClusterOptions> ClusterOptionsFromEnv(const config::EnvLookup& env) {
  ClusterOptions o;
  Problems p;
  auto text = [&](const char* name, std::string& out) {
    if (const char* v = env(name)) out = std::string(Trim(v));
  };
  auto millis = [&](const char* name, std::chrono::milliseconds& out) {
    if (const char* v = env(name)) {
      auto d = ParseDurationMillisDefault(v);
      if (!p.Check(name, d)) return;
      if (*d < std::chrono::milliseconds(1)) return p.Add(name, "must be at least 1ms");
      out = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
    }
  };
  text("CLUSTER_REGION", o.region);
  text("CLUSTER_NODE_ID", o.node_id);
  text("CLUSTER_BIND_ADDR", o.bind_addr);
  text("CLUSTER_SELF_ADDR", o.self_addr);
  text("DISCOVERY_MODE", o.discovery);
  o.discovery = ToLower(o.discovery);
  text("CLUSTER_DATA_DIR", o.data_dir);
  if (const char* v = env("CLUSTER_NODES")) {
    std::string_view rest(v);
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      std::string_view item = Trim(rest.substr(0, comma));
      if (!item.empty()) o.nodes.emplace_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (const char* v = env("CLUSTER_VOTERS")) {
    auto n = ParseCount(v, 1);
    if (p.Check("CLUSTER_VOTERS", n)) o.voters = *n;
  }
  if (const char* v = env("CLUSTER_MIN_PEERS")) {
    auto n = ParseCount(v, 0);
    if (p.Check("CLUSTER_MIN_PEERS", n)) o.min_peers = *n;
  }
  millis("CLUSTER_ELECTION_TIMEOUT", o.election_timeout);
  millis("CLUSTER_HEARTBEAT_INTERVAL", o.heartbeat_interval);
  millis("CLUSTER_PROMOTE_AFTER", o.promote_after);
  if (const char* v = env("CLUSTER_TOKEN")) o.token = v;  // verbatim: it is a secret
  text("CLUSTER_TLS_CERT", o.tls_cert);
  text("CLUSTER_TLS_KEY", o.tls_key);
  text("CLUSTER_TLS_CA", o.tls_ca);
  if (const char* v = env("CLUSTER_INSECURE")) {
    auto b = ParseBool(v);
    if (p.Check("CLUSTER_INSECURE", b)) o.insecure = *b;
  }
  if (o.node_id.empty()) o.node_id = Hostname() + "-" + o.region;
  if (o.data_dir.empty()) o.data_dir = "volley-cluster";
  if (auto r = p.Done(); !r) {
    // Report the whole-options problems too, so one start shows everything.
    auto whole = ValidateClusterOptions(o);
    return MakeError(ErrorCode::kInvalidArgument,
                     r.error().message + (whole ? "" : "\n" + whole.error().message));
  }
  if (auto r = ValidateClusterOptions(o); !r) return tl::unexpected(r.error());
  return o;
}

Result<std::string> SelfAddress(const ClusterOptions& o) {
  if (!o.self_addr.empty()) return NormalizeAddress(o.self_addr);
  auto bind = ParseListenAddress(o.bind_addr);
  if (!bind) return tl::unexpected(bind.error());
  const bool wildcard = bind->host == "0.0.0.0" || bind->host == "::";
  const std::string host = wildcard                                    ? Hostname()
                           : bind->host.find(':') != std::string::npos ? "[" + bind->host + "]"
                                                                       : bind->host;
  return NormalizeAddress(host + ":" + std::to_string(bind->port));
}

Result<void> ValidateClusterOptions(const ClusterOptions& o) {
  Problems p;
  if (o.discovery != "static" && o.discovery != "consul") {
    p.Add("DISCOVERY_MODE", "expected static or consul, got '" + o.discovery + "'");
  }
  // Consul discovery fills `nodes` from the passing instances before the member starts.
  const bool discovered_later = o.discovery == "consul" && o.nodes.empty();
  if (o.node_id.empty()) p.Add("CLUSTER_NODE_ID", "must not be empty");
  if (o.data_dir.empty()) p.Add("CLUSTER_DATA_DIR", "must not be empty");
  if (o.voters < 1) p.Add("CLUSTER_VOTERS", "must be at least 1");
  auto bind = ParseListenAddress(o.bind_addr);
  if (!bind) p.Add("CLUSTER_BIND_ADDR", bind.error().message);
  if (discovered_later) {
  } else if (o.nodes.empty()) {
    p.Add("CLUSTER_NODES", "no nodes: list every member as host:port,host:port (this one too)");
  } else if (auto conf = InitialConfiguration(o.nodes, o.voters); !conf) {
    p.Add("CLUSTER_NODES", conf.error().message);
  } else if (bind) {
    auto self = SelfAddress(o);
    if (!self) {
      p.Add("CLUSTER_SELF_ADDR", self.error().message);
    } else {
      bool listed = false;
      for (const auto& m : *conf) listed = listed || m.address == *self;
      if (!listed) {
        p.Add("CLUSTER_NODES", "this node's address " + *self +
                                   " is not in the list; add it, or set CLUSTER_SELF_ADDR to "
                                   "the listed address other nodes reach this one at");
      }
    }
    if (o.min_peers > conf->size()) {
      p.Add("CLUSTER_MIN_PEERS", std::to_string(o.min_peers) + " is more than the " +
                                     std::to_string(conf->size()) + " nodes listed");
    }
  }
  if (o.heartbeat_interval * 2 > o.election_timeout) {
    p.Add("CLUSTER_ELECTION_TIMEOUT",
          std::to_string(o.election_timeout.count()) + "ms leaves no room for heartbeats of " +
              std::to_string(o.heartbeat_interval.count()) +
              "ms: make it at least twice CLUSTER_HEARTBEAT_INTERVAL (ten times is safer)");
  }
  const int tls_parts = !o.tls_cert.empty() + !o.tls_key.empty() + !o.tls_ca.empty();
  if (tls_parts != 0 && tls_parts != 3) {
    p.Add("CLUSTER_TLS_CERT",
          "mTLS needs all three of CLUSTER_TLS_CERT, CLUSTER_TLS_KEY and "
          "CLUSTER_TLS_CA");
  }
  if (bind && !IsLoopback(bind->host) && o.token.empty() && tls_parts != 3 && !o.insecure) {
    p.Add("CLUSTER_BIND_ADDR",
          o.bind_addr +
              " is reachable off this machine and the cluster has no authentication: "
              "set CLUSTER_TOKEN and/or CLUSTER_TLS_CERT/_KEY/_CA, or "
              "CLUSTER_INSECURE=true to accept the risk");
  }
  return p.Done();
}

std::string ClusterEnvHelp() {
  std::string out = "\nCluster mode (CLUSTER_ENABLED=true; GET /health/cluster):\n";
  for (const auto& d : kDocs) {
    std::string name = d.name;
    name.resize(std::max<size_t>(name.size() + 1, 28), ' ');
    out += "  " + name + d.meaning + "\n";
  }
  return out;
}

}  // namespace volley::cluster
