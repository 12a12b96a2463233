#include "pusher.h"

#include <algorithm>
#include <cstdio>

namespace volley::output::cloud {
namespace {

constexpr size_t kMaxAnswerBytes = 16 * 1024;

}  // namespace

std::multimap<std::string, std::string> PushHeaders(const CloudConfig& config,
                                                    const std::string& idempotency_key) {
  std::multimap<std::string, std::string> h;
  if (config.api_version == 2) {
    h.emplace("Content-Encoding", "snappy");
    h.emplace("K6-Metrics-Protocol-Version", "2.0");
  }
  if (!config.token.empty()) h.emplace("Authorization", config.auth_scheme + " " + config.token);
  h.emplace("K6-Idempotency-Key", idempotency_key);
  h.emplace("User-Agent", kUserAgent);
  return h;
}

std::string IdempotencyKey(uint64_t rng_value) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng_value));
  return std::string(buf, 16);
}

HttpPusher::HttpPusher(const CloudConfig& config)
    : config_(config), url_(config.scheme_host_port + config.PushPath()) {}

HttpPusher::~HttpPusher() = default;

Verdict HttpPusher::Push(const PushRequest& request, Nanos timeout) {
  http::ClientRequest req;
  req.url = url_;
  for (const auto& [k, v] : PushHeaders(config_, request.idempotency_key)) req.headers.Add(k, v);
  req.headers.Add("Content-Type",
                  config_.api_version == 2 ? "application/x-protobuf" : "application/json");
  req.body = request.body;
  req.timeout = timeout;
  req.connect_timeout = timeout;
  // The answer's body only matters for its JSON error: keep the first bytes, so a hostile
  // or broken server cannot make the output hold a large body.
  req.max_response_bytes = kMaxAnswerBytes;
  req.truncate_response = true;
  req.fresh_connection = MonotonicNow() - last_used_ > kMaxIdle;
  auto res = client_.Send(req);
  last_used_ = MonotonicNow();
  if (!res) {
    Verdict v;
    v.kind = Verdict::kRetry;
    v.what = "transport: " + res.error().message;
    return v;
  }
  return ClassifyResponse(res->status, res->body, std::string(res->headers.Get("Retry-After")));
}

void HttpPusher::Interrupt() { client_.Cancel(); }

}  // namespace volley::output::cloud
