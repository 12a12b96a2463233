#include "control_api.h"

#include <nlohmann/json.hpp>

#include "volley/config/env.h"
#include "volley/config/plan_yaml.h"

namespace volley::cli {
namespace {

constexpr size_t kMaxPlanBytes = 1 << 20;

void Json(http::Response& res, int status, std::string body) {
  res.status = status;
  res.content_type = "application/json";
  res.body = std::move(body);
}

}  // namespace

Result<config::TestPlan> NodePlanFrom(const std::string& text, const std::string& name) {
  auto plan = config::ParsePlanYaml(text, name);
  if (!plan) return plan;
  if (auto r = config::ApplyEnv(config::ProcessEnv(), *plan); !r) return tl::unexpected(r.error());
  config::FillIdentity(*plan);
  return plan;
}

std::string ControlErrorJson(const std::string& what, const std::string& problems) {
  nlohmann::json j;
  j["error"] = what;
  j["problems"] = nlohmann::json::array();
  size_t start = 0;
  while (start < problems.size()) {
    const size_t nl = problems.find('\n', start);
    j["problems"].push_back(problems.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return j.dump();
}

http::ServerOptions DefaultControlHttpOptions() {
  http::ServerOptions o;
  o.name = "control API";
  o.header_timeout = std::chrono::seconds(10);
  o.idle_timeout = std::chrono::seconds(30);
  o.body_timeout = std::chrono::seconds(10);
  o.max_body_bytes = kMaxPlanBytes;
  o.max_connections = 1024;
  o.max_connections_per_peer = 64;
  return o;
}

Result<void> CheckExposure(const ListenAddress& address, const std::string& token, bool insecure) {
  if (!token.empty() || insecure || http::IsLoopback(address.host)) return {};
  return MakeError(
      ErrorCode::kInvalidArgument,
      "the control API would listen on " + address.host + ":" + std::to_string(address.port) +
          " without a token: anyone who reaches that port could start load against any "
          "address.\nFix: set VOLLEY_API_TOKEN=<secret> (clients then send Authorization: "
          "Bearer <secret> to POST /config and /stop), or listen on loopback only "
          "(--listen 127.0.0.1:8080), or set VOLLEY_INSECURE=true to accept the risk");
}

Result<std::unique_ptr<http::HttpServer>> StartControlApi(const ListenAddress& address,
                                                          NodeController& node,
                                                          ControlApiOptions options) {
  http::Router r;
  r.Handle("GET", "/ready",
           [](const http::Request&, http::Response& res) { res.body = "ready\n"; });
  r.Handle("GET", "/health", [&node](const http::Request&, http::Response& res) {
    Json(res, 200, node.HealthJson());
  });
  const http::RouteOptions waits{.max_body = kMaxPlanBytes, .blocking = true};
  r.Handle(
      "POST", "/config",
      [&node](const http::Request& req, http::Response& res) {
        auto plan = NodePlanFrom(req.body, "config");
        Result<std::string> started =
            plan ? node.Start(std::move(*plan)) : tl::unexpected(plan.error());
        if (!started) {
          return Json(res, started.error().code == ErrorCode::kInvalidArgument ? 400 : 500,
                      ControlErrorJson("the plan was refused; the running test is unchanged",
                                       started.error().message));
        }
        Json(res, 200, nlohmann::json{{"status", "started"}, {"run_id", *started}}.dump());
      },
      waits);
  r.Handle(
      "POST", "/stop",
      [&node](const http::Request&, http::Response& res) {
        const bool stopped = node.Stop();
        Json(res, 200, nlohmann::json{{"status", stopped ? "stopped" : "idle"}}.dump());
      },
      waits);
  if (options.extra_routes) options.extra_routes(r);
  r.SetHeaderCheck([token = options.token, cluster = options.cluster_token](
                       const http::Request& req, http::Response& res) {
    if ((token.empty() && cluster.empty()) || req.method == "GET" || req.method == "HEAD") {
      return false;
    }
    const std::string_view sent = http::AuthorizationToken(req, false);
    // Both compared, whatever the first gives: the time does not say which one matched.
    const bool api_ok = !token.empty() && http::SecretsEqual(sent, token);
    const bool cluster_ok = !cluster.empty() && http::SecretsEqual(sent, cluster);
    if (api_ok || cluster_ok) return false;
    res.headers.Add("WWW-Authenticate", "Bearer");
    Json(res, 401,
         ControlErrorJson("missing or wrong token: send Authorization: Bearer "
                          "<VOLLEY_API_TOKEN>; nothing was changed",
                          ""));
    return true;
  });
  r.SetNotFound([](const http::Request&, http::Response& res) {
    Json(res, 404,
         ControlErrorJson("unknown endpoint: use GET /ready, GET /health, POST /config "
                          "(a YAML plan) or POST /stop",
                          ""));
  });
  r.SetErrorRenderer([](int status, std::string_view message, http::Response& res) {
    Json(res, status, ControlErrorJson(std::string(message), ""));
  });
  options.http.name = "control API";
  auto server = http::HttpServer::Start(address, std::move(options.http), std::move(r));
  if (!server && server.error().code == ErrorCode::kIo) {
    return MakeError(ErrorCode::kIo, server.error().message +
                                         " (in use? pass --listen or CLUSTER_HEALTH_ADDR with "
                                         "another port)");
  }
  return server;
}

}  // namespace volley::cli
