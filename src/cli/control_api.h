// The control API of `volley node` (cli internal; specs/standalone-compat.md "Control API"):
// GET /ready, GET /health, POST /config (a YAML plan), POST /stop, on http::HttpServer, and
// the access rule of issue 17 ("no open relay").
//
// Access: every request that is not GET or HEAD changes something (POST /config, /stop,
// later /cluster/config and a dashboard's stop) and needs `Authorization: Bearer <token>`
// (or the cluster token) when a token is configured, compared in constant time; without it the
// answer is 401 and nothing changes. GET endpoints (/ready, /health, /health/cluster) stay open:
// Consul and Prometheus poll them. Whether a server may run without a token is CheckExposure's
// call.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "node_controller.h"
#include "volley/common/http_server.h"
#include "volley/common/listen_address.h"
#include "volley/common/result.h"

namespace volley::cli {

// The control API's HTTP defaults: a header within 10 s, idle connections kept 30 s,
// plans up to 1 MiB, 1024 connections, 64 per peer address.
http::ServerOptions DefaultControlHttpOptions();

struct ControlApiOptions {
  std::string token;  // VOLLEY_API_TOKEN; "" = none (only allowed on loopback)
  // In a cluster, the cluster token is accepted too (for /cluster/config and the like);
  // "" = none. Either token configured makes the check apply.
  std::string cluster_token;
  http::ServerOptions http = DefaultControlHttpOptions();
  // Adds routes beyond the standalone ones (the cluster's GET /health/cluster, a leader's
  // /metrics, a dashboard's event stream), before the server starts. A handler that waits
  // (a drain) must be added with RouteOptions::blocking.
  std::function<void(http::Router&)> extra_routes;
};

// Whether the control API may listen on `address` with `token`: a non-loopback address
// without a token is refused (kInvalidArgument, the message saying how to fix it) unless
// `insecure` (VOLLEY_INSECURE=true) accepts the risk.
Result<void> CheckExposure(const ListenAddress& address, const std::string& token, bool insecure);

// Starts the control API on `address` for `node` (which must outlive the server). The
// standalone routes' handlers that wait for a drain run on the blocking pool, so /health
// keeps answering meanwhile. Errors: those of HttpServer::Start, the kIo message naming
// --listen / CLUSTER_HEALTH_ADDR as the fix.
Result<std::unique_ptr<http::HttpServer>> StartControlApi(const ListenAddress& address,
                                                          NodeController& node,
                                                          ControlApiOptions options);

// A plan from YAML text (a POSTed body or a file), with the environment over it, as `volley
// run` reads one. Errors: kInvalidArgument with the validator's positioned problems.
Result<config::TestPlan> NodePlanFrom(const std::string& text, const std::string& name);

// The JSON error body of the control API: {"error": "...", "problems": ["file:l:c: ..."]}.
std::string ControlErrorJson(const std::string& what, const std::string& problems);

}  // namespace volley::cli
