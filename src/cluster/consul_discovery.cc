// Consul discovery: registration, the ?passing watch, and their configuration.
#include "volley/cluster/consul_discovery.h"

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "blocking_query.h"
#include "membership.h"
#include "volley/cluster/cluster_env.h"
#include "volley/common/duration.h"
#include "volley/common/http_client.h"
#include "volley/common/strings.h"
#include "volley/common/url.h"

namespace volley::cluster {
namespace {

using nlohmann::json;
constexpr size_t kMaxInstances = 4096;

std::string Encoded(std::string_view s) {
  std::string out;
  AppendPercentEncoded(s, &out);
  return out;
}

// "host:port" / "[v6]:port" → host (brackets dropped) and port.
bool SplitHostPort(const std::string& a, std::string* host, int* port) {
  const size_t colon = a.rfind(':');
  if (colon == std::string::npos) return false;
  *host = a.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[') *host = host->substr(1, host->size() - 2);
  *port = std::atoi(a.c_str() + colon + 1);
  return *port > 0;
}

}  // namespace

Result<std::string> ConsulAddrFromEnv(const config::EnvLookup& env) {
  const char* v = env("CONSUL_ADDR");
  if (v == nullptr || *v == '\0') return std::string("http://127.0.0.1:8500");
  std::string addr(Trim(v));
  if (addr.find("://") == std::string::npos) addr = "http://" + addr;
  while (!addr.empty() && addr.back() == '/') addr.pop_back();
  auto u = ParseUrl(addr);
  if (!u) return MakeError(ErrorCode::kInvalidArgument, "CONSUL_ADDR: " + u.error().message);
  if (u->path != "/") {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "CONSUL_ADDR: expected http(s)://host:port with no path, got '" + std::string(v) + "'");
  }
  return addr;
}

Result<ConsulOptions> ConsulOptionsFromEnv(const config::EnvLookup& env,
                                           const ClusterOptions& cluster,
                                           const std::string& control_url) {
  ConsulOptions o;
  std::string problems;
  auto add = [&](const std::string& line) { problems += (problems.empty() ? "" : "\n") + line; };
  if (auto addr = ConsulAddrFromEnv(env); !addr) {
    add(addr.error().message);
  } else {
    o.addr = *addr;
  }
  if (const char* v = env("CONSUL_SERVICE_NAME"); v != nullptr && *v != '\0') {
    o.service = std::string(Trim(v));
    for (char c : o.service) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) {
        add("CONSUL_SERVICE_NAME: '" + o.service +
            "' is not a DNS label (letters, digits and '-' only)");
        break;
      }
    }
  }
  if (const char* v = env("CONSUL_HTTP_TOKEN")) o.token = Trim(v);
  if (const char* v = env("CONSUL_BOOTSTRAP_EXPECT"); v != nullptr && *v != '\0') {
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (end == v || *end != '\0' || n < 1 || n > 1000) {
      add("CONSUL_BOOTSTRAP_EXPECT: expected the number of nodes to wait for (>= 1), got '" +
          std::string(v) + "'");
    } else {
      o.bootstrap_expect = static_cast<size_t>(n);
    }
  }
  if (const char* v = env("CONSUL_DEREGISTER_AFTER"); v != nullptr && *v != '\0') {
    if (auto d = ParseDuration(v); !d) {
      add("CONSUL_DEREGISTER_AFTER: " + d.error().message);
    } else {
      o.deregister_after = Trim(v);
    }
  }
  o.node_id = cluster.node_id;
  o.region = cluster.region;
  o.service_id = o.service + "-" + cluster.node_id;
  auto self = SelfAddress(cluster);
  if (!self || !SplitHostPort(*self, &o.address, &o.port)) {
    add("CLUSTER_BIND_ADDR: no address to register in Consul" +
        (self ? std::string() : ": " + self.error().message));
  }
  o.check_url = control_url + "/health/cluster";
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems);
  return o;
}

std::string ConsulRegistration(const ConsulOptions& o, Role role) {
  json check{{"HTTP", o.check_url},
             {"Interval", o.check_interval},
             {"Timeout", o.check_timeout},
             {"DeregisterCriticalServiceAfter", o.deregister_after}};
  return json{{"ID", o.service_id},
              {"Name", o.service},
              {"Tags", {RoleName(role)}},
              {"Address", o.address},
              {"Port", o.port},
              {"Meta", {{"node_id", o.node_id}, {"region", o.region}}},
              {"Check", check}}
      .dump();
}

Result<std::vector<ConsulPeer>> ParseConsulHealth(std::string_view body) {
  const json j = json::parse(body, nullptr, false);
  auto bad = [](const std::string& why) {
    return MakeError(ErrorCode::kProtocol, "Consul's /v1/health/service answer: " + why);
  };
  if (j.is_discarded()) return bad("not JSON");
  if (!j.is_array()) return bad("expected an array");
  if (j.size() > kMaxInstances) return bad("more than 4096 instances");
  std::vector<ConsulPeer> out;
  for (const auto& e : j) {
    if (!e.is_object() || !e.contains("Service") || !e["Service"].is_object()) {
      return bad("an element without a Service object");
    }
    const json& s = e["Service"];
    ConsulPeer p;
    std::string host;
    int port = 0;
    if (s.contains("ID") && s["ID"].is_string()) p.service_id = s["ID"].get<std::string>();
    if (s.contains("Address") && s["Address"].is_string()) host = s["Address"].get<std::string>();
    if (host.empty() && e.contains("Node") && e["Node"].is_object() &&
        e["Node"].contains("Address") && e["Node"]["Address"].is_string()) {
      host = e["Node"]["Address"].get<std::string>();
    }
    if (s.contains("Port") && s["Port"].is_number_integer()) port = s["Port"].get<int>();
    if (s.contains("Tags") && s["Tags"].is_array()) {
      for (const auto& t : s["Tags"]) {
        if (t.is_string()) p.tags.push_back(t.get<std::string>());
      }
    }
    if (host.empty() || port < 1 || port > 65535) {
      return bad("instance '" + p.service_id + "' has no address or port");
    }
    auto addr = NormalizeAddress((host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                                 ":" + std::to_string(port));
    if (!addr) return bad("instance '" + p.service_id + "': " + addr.error().message);
    p.address = *addr;
    out.push_back(std::move(p));
  }
  return out;
}

std::string WithDiscoveryJson(const std::string& health_json, const DiscoveryHealth& h) {
  json j = json::parse(health_json, nullptr, false);
  if (j.is_discarded()) j = json::object();
  json peers = json::array();
  for (const auto& p : h.peers) {
    peers.push_back({{"service_id", p.service_id}, {"address", p.address}, {"tags", p.tags}});
  }
  j["discovery"] = {{"mode", h.mode},
                    {"state", h.state},
                    {"last_error", h.last_error},
                    {"registered_tag", h.registered_tag},
                    {"passing", peers},
                    {"index", h.index},
                    {"registrations", h.registrations},
                    {"failures", h.failures}};
  return j.dump();
}

namespace {

class Discovery final : public ConsulDiscovery {
 public:
  Discovery(ConsulOptions o, std::function<std::optional<Role>()> role)
      : options_(std::move(o)), role_(std::move(role)) {}
  ~Discovery() override { Stop(); }

  void Run() {
    registrar_ = std::thread([this] { RegisterLoop(); });
    watcher_ = std::thread([this] { WatchLoop(); });
  }

  DiscoveryHealth Health() const override {
    std::lock_guard<std::mutex> l(mu_);
    return HealthLocked();
  }

  DiscoveryHealth WaitForChange(uint64_t after, std::chrono::milliseconds timeout) override {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, timeout, [&] { return stop_ || health_.queries > after; });
    return HealthLocked();
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stop_) return;
      stop_ = true;
    }
    cv_.notify_all();
    reg_client_.Cancel();
    watch_client_.Cancel();
    if (registrar_.joinable()) registrar_.join();
    if (watcher_.joinable()) watcher_.join();
    http::HttpClient client;
    auto r = Send(client, "PUT", "/v1/agent/service/deregister/" + Encoded(options_.service_id), "",
                  std::chrono::seconds(3));
    if (r && (r->status == 200 || r->status == 404)) {
      fprintf(stderr, "volley cluster: consul: deregistered %s\n", options_.service_id.c_str());
    } else {
      fprintf(stderr, "volley cluster: consul: could not deregister %s: %s\n",
              options_.service_id.c_str(), Describe(r, "deregister").c_str());
    }
  }

 private:
  DiscoveryHealth HealthLocked() const {  // REQUIRES: mu_ held
    DiscoveryHealth h = health_;
    h.last_error = !watch_error_.empty() ? watch_error_ : reg_error_;
    h.state = h.last_error.empty() && !h.registered_tag.empty() ? "ok" : "degraded";
    return h;
  }

  Result<http::ClientResponse> Send(http::HttpClient& client, const char* method,
                                    const std::string& path, std::string body, Nanos timeout) {
    http::ClientRequest q;
    q.method = method;
    q.url = options_.addr + path;
    q.body = std::move(body);
    q.timeout = timeout;
    q.connect_timeout = std::chrono::seconds(2);
    if (!q.body.empty()) q.headers.Add("Content-Type", "application/json");
    if (!options_.token.empty()) q.headers.Add("X-Consul-Token", options_.token);
    return client.Send(q);
  }

  // "Consul at <addr>: <what>: <why>", never the token.
  std::string Describe(const Result<http::ClientResponse>& r, const char* what) const {
    std::string why;
    if (!r) {
      why = r.error().message;
    } else {
      why = "HTTP " + std::to_string(r->status);
      std::string body(Trim(r->body.substr(0, 200)));
      if (!body.empty()) why += ": " + body;
      if (r->status == 403) {
        why += options_.token.empty() ? " (set CONSUL_HTTP_TOKEN)"
                                      : " (check CONSUL_HTTP_TOKEN's policy)";
      }
    }
    return "Consul at " + options_.addr + ": " + what + ": " + why;
  }

  // Sleeps up to `d` unless stopping; false once stopping.
  bool Pause(Nanos d) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, d, [&] { return stop_; });
    return !stop_;
  }

  void RegisterLoop() {
    int registered = -1;  // the Role registered, -1 for none (or a failed registration)
    Nanos last = Nanos(0);
    int failures = 0;
    Nanos pause = Nanos(0);
    while (Pause(pause)) {
      pause = options_.role_poll;
      const Role want = role_ ? role_().value_or(Role::kForming) : Role::kForming;
      bool resync = false;
      {
        std::lock_guard<std::mutex> l(mu_);
        std::swap(resync, resync_);
      }
      const Nanos now = MonotonicNow();
      if (registered == static_cast<int>(want) && !resync && now - last < options_.refresh)
        continue;
      auto r = Send(reg_client_, "PUT", "/v1/agent/service/register",
                    ConsulRegistration(options_, want), std::chrono::seconds(5));
      std::lock_guard<std::mutex> l(mu_);
      if (r && r->status == 200) {
        if (registered != static_cast<int>(want) || !reg_error_.empty()) {
          fprintf(stderr, "volley cluster: consul: registered %s as '%s' at %s:%d\n",
                  options_.service_id.c_str(), RoleName(want), options_.address.c_str(),
                  options_.port);
        }
        registered = static_cast<int>(want);
        last = now;
        failures = 0;
        reg_error_.clear();
        health_.registered_tag = RoleName(want);
        ++health_.registrations;
      } else {
        const std::string error = Describe(r, "register");
        if (error != reg_error_) {
          fprintf(stderr, "volley cluster: consul: %s; retrying with backoff\n", error.c_str());
        }
        reg_error_ = error;
        ++health_.failures;
        registered = -1;
        ++failures;
        pause = std::min(options_.max_backoff,
                         options_.min_query_interval * (1 << std::min(failures, 10)));
      }
    }
  }

  void WatchLoop() {
    BlockingQuery query(SteadyClock::Instance(), options_.min_query_interval, options_.max_backoff);
    while (Pause(query.Delay())) {
      std::string path = "/v1/health/service/" + Encoded(options_.service) + "?passing";
      Nanos timeout = std::chrono::seconds(10);
      if (query.index() >= 1) {
        const auto wait_s = std::chrono::duration_cast<std::chrono::seconds>(options_.wait);
        path += "&index=" + std::to_string(query.index()) +
                "&wait=" + std::to_string(wait_s.count()) + "s";
        timeout = options_.wait + options_.wait / 16 + std::chrono::seconds(5);
      }
      query.Sent();
      auto r = Send(watch_client_, "GET", path, "", timeout);
      Result<std::vector<ConsulPeer>> peers =
          MakeError(ErrorCode::kIo, Describe(r, "GET /v1/health/service"));
      if (r && r->status == 200) {
        peers = ParseConsulHealth(r->body);
        if (!peers)
          peers = MakeError(ErrorCode::kProtocol,
                            "Consul at " + options_.addr + ": " + peers.error().message);
      }
      std::lock_guard<std::mutex> l(mu_);
      if (stop_) return;
      if (!peers) {
        query.Failed();
        if (peers.error().message != watch_error_) {
          fprintf(stderr, "volley cluster: consul: %s; retrying with backoff\n",
                  peers.error().message.c_str());
        }
        watch_error_ = peers.error().message;
        ++health_.failures;
        continue;
      }
      const auto index = ParseConsulIndex(r->headers.Get("X-Consul-Index"));
      query.Answered(index);
      if (!watch_error_.empty()) {
        fprintf(stderr, "volley cluster: consul: answering again (%zu passing)\n", peers->size());
        resync_ = true;  // Consul may have lost the registration while away
      }
      watch_error_.clear();
      health_.peers = std::move(*peers);
      health_.index = index.value_or(0);
      ++health_.queries;
      cv_.notify_all();
    }
  }

  const ConsulOptions options_;
  const std::function<std::optional<Role>()> role_;
  http::HttpClient reg_client_;    // the registrar's
  http::HttpClient watch_client_;  // the watcher's
  std::thread registrar_, watcher_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;        // guarded by mu_
  bool resync_ = false;      // guarded by mu_: re-register at the next look
  DiscoveryHealth health_;   // guarded by mu_ (state/last_error derived)
  std::string reg_error_;    // guarded by mu_
  std::string watch_error_;  // guarded by mu_
};

}  // namespace

std::unique_ptr<ConsulDiscovery> ConsulDiscovery::Start(ConsulOptions options,
                                                        std::function<std::optional<Role>()> role) {
  auto d = std::make_unique<Discovery>(std::move(options), std::move(role));
  d->Run();
  return d;
}

}  // namespace volley::cluster
