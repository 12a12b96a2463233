// A stateful fake Consul agent on loopback, written from the HTTP API facts of
// specs/integrations.md §1 (no Consul server exists in Debian or npm). It serves what
// volley's Consul discovery and config source use, with Consul's status codes and JSON:
//
//   PUT /v1/agent/service/register            a whole definition (re-sent to change tags)
//   PUT /v1/agent/service/deregister/<id>     404 "Unknown service" when absent
//   GET /v1/agent/services                    the agent's services by ID
//   GET /v1/health/service/<name>[?passing]   Node, Service, Checks (with serfHealth)
//   GET /v1/catalog/service/<name>            flat, unhealthy instances included
//   GET/PUT/DELETE /v1/kv/<key>               base64 Value, 404 missing, ?raw, ?cas, ?flags
//
// Health, catalog and KV answer X-Consul-Index and block on `?index=N&wait=D` until the
// index passes N or D elapses (max_wait at most). HTTP checks really run: each on its own
// thread, a GET (or the check's Method, Header and Body) to the registered URL every
// Interval with its Timeout: 2xx passing, 429 warning, anything else (or no answer)
// critical. New checks start critical unless Status says otherwise, and run at once (a
// real agent staggers the first run within the interval). A service whose check with
// DeregisterCriticalServiceAfter has been critical that long (raised to
// min_deregister_after) is removed by a reaper running every reap_interval.
//
// With acl_token set, every request needs `X-Consul-Token: <t>` or `Authorization: Bearer
// <t>`: none gives 403 "Permission denied", another token 403 "ACL not found".
//
// Thread-safe: every method may be called from any thread. Stop() (and the destructor)
// wakes blocked queries, stops the checks and joins every thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "volley/common/result.h"

namespace volley::fakes {

struct FakeConsulOptions {
  std::string listen = "127.0.0.1:0";
  std::string acl_token;                                   // "" = ACLs off
  std::chrono::milliseconds reap_interval{30'000};         // Consul's reaper: every 30 s
  std::chrono::milliseconds min_deregister_after{60'000};  // Consul's minimum: 1m
  std::chrono::milliseconds max_wait{600'000};             // blocking queries: 10m at most
  std::string node_name = "fake-consul";
  std::string node_address = "127.0.0.1";
  std::string datacenter = "dc1";
};

struct FakeConsulCheck {
  std::string id, name;
  std::string http;  // URL ("" for a check the fake does not run: status stays as set)
  std::string method = "GET";
  std::map<std::string, std::vector<std::string>> header;
  std::string body;
  std::chrono::milliseconds interval{0}, timeout{10'000};
  std::chrono::milliseconds deregister_after{0};  // 0 = never
  std::string status = "critical";                // passing | warning | critical
  std::string output;
  uint64_t runs = 0;  // times the check was run
};

struct FakeConsulService {
  std::string id, name;
  std::vector<std::string> tags;
  std::string address;
  int port = 0;
  std::map<std::string, std::string> meta;
  std::vector<FakeConsulCheck> checks;
  uint64_t registrations = 0;  // register calls for this ID
};

class FakeConsul {
 public:
  // Binds options.listen and starts serving. kIo when the port cannot be bound.
  static Result<std::unique_ptr<FakeConsul>> Start(FakeConsulOptions options = {});
  ~FakeConsul();
  FakeConsul(const FakeConsul&) = delete;
  FakeConsul& operator=(const FakeConsul&) = delete;

  uint16_t port() const;
  std::string url() const;  // "http://127.0.0.1:<port>"
  void Stop();              // idempotent

  // The state, copied.
  std::vector<FakeConsulService> Services() const;
  std::optional<FakeConsulService> Service(const std::string& id) const;
  uint64_t index() const;  // the current X-Consul-Index
  void PutKv(const std::string& key, const std::string& value);
  std::optional<std::string> GetKv(const std::string& key) const;
  uint64_t requests() const;  // HTTP requests served (all routes)

  class Impl;

 private:
  explicit FakeConsul(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace volley::fakes
