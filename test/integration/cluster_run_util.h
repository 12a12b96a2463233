// Helpers of the cluster-run process tests: calls to a member's control API and waits on
// the run it reports. Header-only; confined to the test's thread.
#pragma once

#include <string>

#include "integration/cluster_harness.h"

namespace volley::testing {

struct Reply {
  int status = 0;  // 0 when the member did not answer
  json body;
};

// `method path` on member `m`'s control API, the body as JSON (discarded if it is not).
inline Reply Call(const ClusterMember& m, const std::string& method, const std::string& path,
                  const std::string& body = "") {
  http::HttpClient client;
  http::ClientRequest req;
  req.method = method;
  req.url = "http://" + m.host + ":" + std::to_string(m.http_port) + path;
  req.body = body;
  req.timeout = std::chrono::seconds(40);
  auto res = client.Send(req);
  if (!res) return {};
  return Reply{res->status, json::parse(res->body, nullptr, false)};
}

// GET /cluster/run of `m` while it is run `id`, else an empty object.
inline json RunOf(const ClusterMember& m, const std::string& id) {
  auto r = Call(m, "GET", "/cluster/run");
  if (r.status != 200 || !r.body.is_object() || r.body.value("run_id", "") != id) {
    return json::object();
  }
  return r.body;
}

// Waits until `m` reports run `id` in `phase`.
inline bool WaitPhase(const ClusterMember& m, const std::string& id, const std::string& phase,
                      milliseconds timeout) {
  return PollUntil([&] { return RunOf(m, id).value("phase", "") == phase; }, timeout,
                   milliseconds(100));
}

}  // namespace volley::testing
