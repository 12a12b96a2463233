#include "fakes/fake_consul.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "volley/common/base64.h"
#include "volley/common/duration.h"
#include "volley/common/http_client.h"
#include "volley/common/http_server.h"
#include "volley/common/listen_address.h"

namespace volley::fakes {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

milliseconds ToMillis(Nanos n) { return std::chrono::duration_cast<milliseconds>(n); }

void Text(http::Response& res, int status, std::string body) {
  res.status = status;
  res.content_type = "text/plain; charset=utf-8";
  res.body = std::move(body);
}

void JsonBody(http::Response& res, const json& j, uint64_t index) {
  res.status = 200;
  res.content_type = "application/json";
  res.body = j.dump();
  res.headers.Set("X-Consul-Index", std::to_string(index));
}

// The raw query has `name` (bare or with a value): its value, "" for a bare one.
std::optional<std::string> QueryParam(const http::Request& req, std::string_view name) {
  std::string_view q = req.query;
  while (!q.empty()) {
    const size_t amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string() : req.Query(name);
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const std::string hex(s.substr(i + 1, 2));
      char* end = nullptr;
      const long v = std::strtol(hex.c_str(), &end, 16);
      if (end == hex.c_str() + 2) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// A Go duration as Consul takes it ("5s", "1m", "500ms").
Result<milliseconds> GoDuration(const json& v, const char* field) {
  if (!v.is_string()) {
    return MakeError(ErrorCode::kInvalidArgument, std::string(field) + ": expected a duration");
  }
  auto d = ParseDuration(v.get<std::string>());
  if (!d)
    return MakeError(ErrorCode::kInvalidArgument, std::string(field) + ": " + d.error().message);
  return ToMillis(*d);
}

struct CheckRunner {
  std::atomic<bool> stop{false};
  http::HttpClient client;
  std::thread thread;
};

struct ServiceState {
  FakeConsulService service;
  std::vector<SteadyTime> critical_since;  // per check; meaningful while critical
  std::vector<std::shared_ptr<CheckRunner>> runners;
};

struct KvEntry {
  std::string value;
  uint64_t flags = 0, create_index = 0, modify_index = 0;
};

}  // namespace

class FakeConsul::Impl {
 public:
  explicit Impl(FakeConsulOptions o) : options_(std::move(o)) {}
  ~Impl() { Stop(); }

  Result<void> Start() {
    auto addr = ParseListenAddress(options_.listen);
    if (!addr) return tl::unexpected(addr.error());
    http::Router router;
    if (!options_.acl_token.empty()) {
      router.SetHeaderCheck([this](const http::Request& req, http::Response& res) {
        std::string_view t = req.headers.Get("X-Consul-Token");
        if (t.empty()) t = http::AuthorizationToken(req, false);
        if (t.empty()) return Text(res, 403, "Permission denied"), true;
        if (!http::SecretsEqual(t, options_.acl_token))
          return Text(res, 403, "ACL not found"), true;
        return false;
      });
    }
    const http::RouteOptions blocking{.blocking = true};
    router.Handle("PUT", "/v1/agent/service/register",
                  [this](const http::Request& q, http::Response& r) { Register(q, r); });
    router.Handle("PUT", "/v1/agent/service/deregister/{}",
                  [this](const http::Request& q, http::Response& r) { Deregister(q, r); });
    router.Handle("GET", "/v1/agent/services",
                  [this](const http::Request& q, http::Response& r) { AgentServices(q, r); });
    router.Handle(
        "GET", "/v1/health/service/{}",
        [this](const http::Request& q, http::Response& r) { Health(q, r); }, blocking);
    router.Handle(
        "GET", "/v1/catalog/service/{}",
        [this](const http::Request& q, http::Response& r) { Catalog(q, r); }, blocking);
    std::string pattern = "/v1/kv";
    for (int depth = 0; depth < 8; ++depth) {
      pattern += "/{}";
      router.Handle(
          "GET", pattern, [this](const http::Request& q, http::Response& r) { KvGet(q, r); },
          blocking);
      router.Handle("PUT", pattern,
                    [this](const http::Request& q, http::Response& r) { KvPut(q, r); });
      router.Handle("DELETE", pattern,
                    [this](const http::Request& q, http::Response& r) { KvDelete(q, r); });
    }
    router.SetNotFound([](const http::Request& q, http::Response& r) {
      Text(r, 404, "fake Consul: no route for " + q.method + " " + q.path);
    });
    http::ServerOptions so;
    so.name = "fake Consul";
    so.worker_threads = 4;
    so.blocking_threads = 32;
    so.shutdown_grace = std::chrono::seconds(1);
    auto server = http::HttpServer::Start(*addr, so, std::move(router));
    if (!server) return tl::unexpected(server.error());
    server_ = std::move(*server);
    reaper_ = std::thread([this] { ReapLoop(); });
    return {};
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (server_) server_->Stop();
    std::vector<std::shared_ptr<CheckRunner>> runners;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (auto& [id, s] : services_) {
        for (auto& r : s.runners) runners.push_back(r);
      }
    }
    Join(runners);
    if (reaper_.joinable()) reaper_.join();
  }

  uint16_t port() const { return server_->port(); }

  std::vector<FakeConsulService> Services() const {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<FakeConsulService> out;
    for (const auto& [id, s] : services_) out.push_back(s.service);
    return out;
  }
  std::optional<FakeConsulService> Service(const std::string& id) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = services_.find(id);
    if (it == services_.end()) return std::nullopt;
    return it->second.service;
  }
  uint64_t index() const {
    std::lock_guard<std::mutex> l(mu_);
    return index_;
  }
  void PutKv(const std::string& key, const std::string& value) {
    {
      std::lock_guard<std::mutex> l(mu_);
      KvEntry& e = kv_[key];
      e.value = value;
      e.modify_index = ++index_;
      if (e.create_index == 0) e.create_index = e.modify_index;
    }
    cv_.notify_all();
  }
  std::optional<std::string> GetKv(const std::string& key) const {
    std::lock_guard<std::mutex> l(mu_);
    auto it = kv_.find(key);
    if (it == kv_.end()) return std::nullopt;
    return it->second.value;
  }
  uint64_t requests() const { return requests_.load(); }

 private:
  static void Join(const std::vector<std::shared_ptr<CheckRunner>>& runners) {
    for (const auto& r : runners) {
      r->stop = true;
      r->client.Cancel();
    }
    for (const auto& r : runners) {
      if (r->thread.joinable()) r->thread.join();
    }
  }

  Result<FakeConsulCheck> ParseCheck(const json& c, const std::string& service_id,
                                     const std::string& service_name, size_t n, size_t of) {
    FakeConsulCheck check;
    if (!c.is_object()) return MakeError(ErrorCode::kInvalidArgument, "check: expected an object");
    check.id = c.value("CheckID", c.value("ID", std::string()));
    if (check.id.empty()) {
      check.id = "service:" + service_id + (of > 1 ? ":" + std::to_string(n + 1) : "");
    }
    check.name = c.value("Name", "Service '" + service_name + "' check");
    check.http = c.value("HTTP", std::string());
    check.method = c.value("Method", std::string("GET"));
    check.body = c.value("Body", std::string());
    if (c.contains("Header")) {
      if (!c["Header"].is_object()) {
        return MakeError(ErrorCode::kInvalidArgument, "Header: expected an object of lists");
      }
      for (const auto& [k, v] : c["Header"].items()) {
        if (!v.is_array()) return MakeError(ErrorCode::kInvalidArgument, "Header: expected lists");
        for (const auto& s : v) check.header[k].push_back(s.get<std::string>());
      }
    }
    if (c.contains("Interval")) {
      auto d = GoDuration(c["Interval"], "Interval");
      if (!d) return tl::unexpected(d.error());
      check.interval = *d;
    }
    if (c.contains("Timeout")) {
      auto d = GoDuration(c["Timeout"], "Timeout");
      if (!d) return tl::unexpected(d.error());
      check.timeout = *d;
    }
    if (c.contains("DeregisterCriticalServiceAfter")) {
      auto d = GoDuration(c["DeregisterCriticalServiceAfter"], "DeregisterCriticalServiceAfter");
      if (!d) return tl::unexpected(d.error());
      check.deregister_after = std::max(*d, options_.min_deregister_after);
    }
    if (!check.http.empty() && check.interval <= milliseconds(0)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "Interval must be > 0 for Script, HTTP, H2PING, or TCP checks");
    }
    check.status = c.value("Status", std::string("critical"));
    if (check.status != "passing" && check.status != "warning" && check.status != "critical") {
      return MakeError(ErrorCode::kInvalidArgument, "Status: must be passing, warning or critical");
    }
    return check;
  }

  void Register(const http::Request& req, http::Response& res) {
    ++requests_;
    const json j = json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return Text(res, 400, "Request decode failed: the body is not a JSON object");
    }
    FakeConsulService s;
    std::vector<json> checks;
    try {
      s.name = j.value("Name", std::string());
      if (s.name.empty()) return Text(res, 400, "Missing service name");
      s.id = j.value("ID", s.name);
      s.address = j.value("Address", std::string());
      s.port = j.value("Port", 0);
      if (j.contains("Tags") && !j["Tags"].is_null()) {
        s.tags = j["Tags"].get<std::vector<std::string>>();
      }
      if (j.contains("Meta") && !j["Meta"].is_null()) {
        s.meta = j["Meta"].get<std::map<std::string, std::string>>();
      }
      checks.clear();
      if (j.contains("Check") && !j["Check"].is_null()) checks.push_back(j["Check"]);
      if (j.contains("Checks") && j["Checks"].is_array()) {
        for (const auto& c : j["Checks"]) checks.push_back(c);
      }
      for (size_t i = 0; i < checks.size(); ++i) {
        auto c = ParseCheck(checks[i], s.id, s.name, i, checks.size());
        if (!c) return Text(res, 400, "Invalid check: " + c.error().message);
        s.checks.push_back(std::move(*c));
      }
    } catch (const json::exception& e) {
      return Text(res, 400, std::string("Request decode failed: ") + e.what());
    }
    std::vector<std::shared_ptr<CheckRunner>> old;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopping_) return Text(res, 503, "stopping");
      auto it = services_.find(s.id);
      if (it != services_.end()) {
        s.registrations = it->second.service.registrations;
        // A re-registration keeps the status of the checks it keeps (as the agent does),
        // unless it sets Status itself.
        for (size_t i = 0; i < s.checks.size(); ++i) {
          auto& c = s.checks[i];
          for (const auto& prev : it->second.service.checks) {
            if (prev.id == c.id && !checks[i].contains("Status")) {
              c.status = prev.status;
              c.output = prev.output;
              c.runs = prev.runs;
            }
          }
        }
        old = std::move(it->second.runners);
      }
      ++s.registrations;
      ServiceState& st = services_[s.id];
      st.service = std::move(s);
      st.critical_since.assign(st.service.checks.size(), std::chrono::steady_clock::now());
      st.runners.clear();
      for (size_t i = 0; i < st.service.checks.size(); ++i) {
        if (st.service.checks[i].http.empty()) continue;
        auto r = std::make_shared<CheckRunner>();
        st.runners.push_back(r);
        r->thread = std::thread(
            [this, r, id = st.service.id, cid = st.service.checks[i].id] { RunCheck(r, id, cid); });
      }
      ++index_;
    }
    cv_.notify_all();
    Join(old);
    res.status = 200;
    res.body.clear();
  }

  void Deregister(const http::Request& req, http::Response& res) {
    ++requests_;
    const std::string id = PercentDecode(req.params[0]);
    std::vector<std::shared_ptr<CheckRunner>> old;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = services_.find(id);
      if (it == services_.end()) return Text(res, 404, "Unknown service ID \"" + id + "\"");
      old = std::move(it->second.runners);
      services_.erase(it);
      ++index_;
    }
    cv_.notify_all();
    Join(old);
    res.status = 200;
  }

  void RunCheck(const std::shared_ptr<CheckRunner>& r, const std::string& id,
                const std::string& check_id) {
    SteadyTime next = std::chrono::steady_clock::now();
    for (;;) {
      http::ClientRequest q;
      milliseconds interval;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait_until(l, next, [&] { return r->stop.load() || stopping_; });
        if (r->stop || stopping_) return;
        const FakeConsulCheck* c = FindCheck(id, check_id);
        if (c == nullptr) return;
        q.method = c->method;
        q.url = c->http;
        q.body = c->body;
        for (const auto& [k, vs] : c->header) {
          for (const auto& v : vs) q.headers.Add(k, v);
        }
        q.timeout = c->timeout;
        q.connect_timeout = c->timeout;
        q.max_response_bytes = 4096;
        q.truncate_response = true;
        interval = c->interval;
      }
      auto answer = r->client.Send(q);
      std::string status = "critical", output;
      if (!answer) {
        output = "Get \"" + q.url + "\": " + answer.error().message;
      } else {
        const int code = answer->status;
        status = code >= 200 && code < 300 ? "passing" : code == 429 ? "warning" : "critical";
        output = "HTTP " + q.method + " " + q.url + ": " + std::to_string(code) +
                 " Output: " + answer->body;
      }
      bool changed = false;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (r->stop || stopping_) return;
        auto it = services_.find(id);
        if (it == services_.end()) return;
        auto& checks = it->second.service.checks;
        for (size_t i = 0; i < checks.size(); ++i) {
          if (checks[i].id != check_id) continue;
          ++checks[i].runs;
          checks[i].output = output;
          if (checks[i].status != status) {
            changed = true;
            if (status == "critical")
              it->second.critical_since[i] = std::chrono::steady_clock::now();
            checks[i].status = status;
          }
        }
        // Every run counts (tests wait for a number of runs); a status change is a new index.
        if (changed) ++index_;
      }
      cv_.notify_all();
      next = std::chrono::steady_clock::now() + interval;
    }
  }

  // REQUIRES: mu_ held.
  const FakeConsulCheck* FindCheck(const std::string& id, const std::string& check_id) const {
    auto it = services_.find(id);
    if (it == services_.end()) return nullptr;
    for (const auto& c : it->second.service.checks) {
      if (c.id == check_id) return &c;
    }
    return nullptr;
  }

  void ReapLoop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait_for(l, options_.reap_interval, [&] { return stopping_; });
      if (stopping_) return;
      const SteadyTime now = std::chrono::steady_clock::now();
      std::vector<std::shared_ptr<CheckRunner>> old;
      for (auto it = services_.begin(); it != services_.end();) {
        bool reap = false;
        const auto& checks = it->second.service.checks;
        for (size_t i = 0; i < checks.size(); ++i) {
          reap = reap ||
                 (checks[i].deregister_after > milliseconds(0) && checks[i].status == "critical" &&
                  now - it->second.critical_since[i] >= checks[i].deregister_after);
        }
        if (!reap) {
          ++it;
          continue;
        }
        for (auto& r : it->second.runners) old.push_back(r);
        it = services_.erase(it);
        ++index_;
      }
      if (old.empty()) continue;
      l.unlock();
      cv_.notify_all();
      Join(old);
      l.lock();
    }
  }

  // Waits (mu_ held through `l`) as a blocking query asks: until the index passes
  // `?index=` or `?wait=` (default 5m, at most max_wait) elapses. False: answer 400 in `res`.
  bool Block(const http::Request& req, std::unique_lock<std::mutex>& l, http::Response& res) {
    const auto index = QueryParam(req, "index");
    if (!index) return true;
    char* end = nullptr;
    const unsigned long long want = std::strtoull(index->c_str(), &end, 10);
    if (index->empty() || *end != '\0') {
      Text(res, 400, "Invalid index: \"" + *index + "\"");
      return false;
    }
    milliseconds wait = std::min(milliseconds(300'000), options_.max_wait);
    if (auto w = QueryParam(req, "wait"); w && !w->empty()) {
      auto d = ParseDuration(*w);
      if (!d) {
        Text(res, 400, "Invalid wait time: " + *w);
        return false;
      }
      wait = std::min(ToMillis(*d), options_.max_wait);
    }
    if (want == 0) return true;
    cv_.wait_for(l, wait, [&] { return stopping_ || index_ > want; });
    return true;
  }

  // Parsed `?passing`: false = no filter; nullopt = a bad value (400 answered).
  static std::optional<bool> Passing(const http::Request& req, http::Response& res) {
    const auto p = QueryParam(req, "passing");
    if (!p) return false;
    if (p->empty() || *p == "true" || *p == "1") return true;
    if (*p == "false" || *p == "0") return false;
    Text(res, 400, "Invalid value for ?passing");
    return std::nullopt;
  }

  json NodeJson() const {
    return json{{"ID", "00000000-0000-0000-0000-000000000001"},
                {"Node", options_.node_name},
                {"Address", options_.node_address},
                {"Datacenter", options_.datacenter},
                {"TaggedAddresses", json::object()},
                {"Meta", json::object()}};
  }

  static json ServiceJson(const FakeConsulService& s) {
    return json{{"ID", s.id},
                {"Service", s.name},
                {"Tags", s.tags},
                {"Address", s.address},
                {"Port", s.port},
                {"Meta", s.meta},
                {"TaggedAddresses", json::object()},
                {"Weights", {{"Passing", 1}, {"Warning", 1}}}};
  }

  void Health(const http::Request& req, http::Response& res) {
    ++requests_;
    const auto passing = Passing(req, res);
    if (!passing) return;
    const std::string name = PercentDecode(req.params[0]);
    std::unique_lock<std::mutex> l(mu_);
    if (!Block(req, l, res)) return;
    json out = json::array();
    for (const auto& [id, st] : services_) {
      const FakeConsulService& s = st.service;
      if (s.name != name) continue;
      json checks = json::array();
      checks.push_back({{"Node", options_.node_name},
                        {"CheckID", "serfHealth"},
                        {"Name", "Serf Health Status"},
                        {"Status", "passing"},
                        {"Output", "Agent alive and reachable"},
                        {"ServiceID", ""},
                        {"ServiceName", ""},
                        {"ServiceTags", json::array()}});
      bool all_passing = true;
      for (const auto& c : s.checks) {
        all_passing = all_passing && c.status == "passing";
        checks.push_back({{"Node", options_.node_name},
                          {"CheckID", c.id},
                          {"Name", c.name},
                          {"Status", c.status},
                          {"Output", c.output},
                          {"ServiceID", s.id},
                          {"ServiceName", s.name},
                          {"ServiceTags", s.tags}});
      }
      if (*passing && !all_passing) continue;
      out.push_back({{"Node", NodeJson()}, {"Service", ServiceJson(s)}, {"Checks", checks}});
    }
    JsonBody(res, out, index_);
  }

  void Catalog(const http::Request& req, http::Response& res) {
    ++requests_;
    const std::string name = PercentDecode(req.params[0]);
    std::unique_lock<std::mutex> l(mu_);
    if (!Block(req, l, res)) return;
    json out = json::array();
    for (const auto& [id, st] : services_) {
      const FakeConsulService& s = st.service;
      if (s.name != name) continue;
      out.push_back({{"Node", options_.node_name},
                     {"Address", options_.node_address},
                     {"Datacenter", options_.datacenter},
                     {"ServiceID", s.id},
                     {"ServiceName", s.name},
                     {"ServiceTags", s.tags},
                     {"ServiceAddress", s.address},
                     {"ServicePort", s.port},
                     {"ServiceMeta", s.meta},
                     {"CreateIndex", 1},
                     {"ModifyIndex", index_}});
    }
    JsonBody(res, out, index_);
  }

  void AgentServices(const http::Request&, http::Response& res) {
    ++requests_;
    std::lock_guard<std::mutex> l(mu_);
    json out = json::object();
    for (const auto& [id, st] : services_) out[id] = ServiceJson(st.service);
    JsonBody(res, out, index_);
  }

  static std::string KeyOf(const http::Request& req) {
    return PercentDecode(std::string_view(req.path).substr(std::string_view("/v1/kv/").size()));
  }

  void KvGet(const http::Request& req, http::Response& res) {
    ++requests_;
    const std::string key = KeyOf(req);
    std::unique_lock<std::mutex> l(mu_);
    if (!Block(req, l, res)) return;
    res.headers.Set("X-Consul-Index", std::to_string(index_));
    auto it = kv_.find(key);
    if (it == kv_.end()) {
      res.status = 404;
      res.body.clear();
      return;
    }
    const KvEntry& e = it->second;
    res.headers.Set("X-Consul-Index", std::to_string(e.modify_index));
    if (QueryParam(req, "raw")) {
      res.status = 200;
      res.content_type = "application/octet-stream";
      res.body = e.value;
      return;
    }
    json entry{{"CreateIndex", e.create_index},
               {"ModifyIndex", e.modify_index},
               {"LockIndex", 0},
               {"Key", key},
               {"Flags", e.flags},
               {"Value", Base64Encode(e.value)}};
    JsonBody(res, json::array({entry}), e.modify_index);
  }

  void KvPut(const http::Request& req, http::Response& res) {
    ++requests_;
    const std::string key = KeyOf(req);
    if (req.body.size() > 512 * 1024) {
      return Text(res, 413, "Value exceeds 524288 byte limit");
    }
    bool ok = true;
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = kv_.find(key);
      if (auto cas = QueryParam(req, "cas")) {
        const uint64_t want = std::strtoull(cas->c_str(), nullptr, 10);
        const uint64_t have = it == kv_.end() ? 0 : it->second.modify_index;
        ok = want == have;
      }
      if (ok) {
        KvEntry& e = kv_[key];
        e.value = req.body;
        if (auto f = QueryParam(req, "flags")) e.flags = std::strtoull(f->c_str(), nullptr, 10);
        e.modify_index = ++index_;
        if (e.create_index == 0) e.create_index = e.modify_index;
      }
    }
    cv_.notify_all();
    res.status = 200;
    res.content_type = "application/json";
    res.body = ok ? "true" : "false";
  }

  void KvDelete(const http::Request& req, http::Response& res) {
    ++requests_;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (kv_.erase(KeyOf(req)) > 0) ++index_;
    }
    cv_.notify_all();
    res.status = 200;
    res.content_type = "application/json";
    res.body = "true";
  }

  const FakeConsulOptions options_;
  std::unique_ptr<http::HttpServer> server_;
  std::thread reaper_;
  std::atomic<uint64_t> requests_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                         // guarded by mu_
  uint64_t index_ = 1;                            // guarded by mu_
  std::map<std::string, ServiceState> services_;  // guarded by mu_; by service ID
  std::map<std::string, KvEntry> kv_;             // guarded by mu_
};

Result<std::unique_ptr<FakeConsul>> FakeConsul::Start(FakeConsulOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (auto r = impl->Start(); !r) return tl::unexpected(r.error());
  return std::unique_ptr<FakeConsul>(new FakeConsul(std::move(impl)));
}

FakeConsul::FakeConsul(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FakeConsul::~FakeConsul() { impl_->Stop(); }
uint16_t FakeConsul::port() const { return impl_->port(); }
std::string FakeConsul::url() const { return "http://127.0.0.1:" + std::to_string(port()); }
void FakeConsul::Stop() { impl_->Stop(); }
std::vector<FakeConsulService> FakeConsul::Services() const { return impl_->Services(); }
std::optional<FakeConsulService> FakeConsul::Service(const std::string& id) const {
  return impl_->Service(id);
}
uint64_t FakeConsul::index() const { return impl_->index(); }
void FakeConsul::PutKv(const std::string& key, const std::string& value) {
  impl_->PutKv(key, value);
}
std::optional<std::string> FakeConsul::GetKv(const std::string& key) const {
  return impl_->GetKv(key);
}
uint64_t FakeConsul::requests() const { return impl_->requests(); }

}  // namespace volley::fakes
