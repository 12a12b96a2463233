#include "pusher.h"

#include <algorithm>
#include <cstdio>
#include <utility>

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

std::unique_ptr<delivery::DeliveryTransport> MakeCloudTransport(const CloudConfig& config) {
  delivery::HttpTransportOptions o;
  o.url = config.scheme_host_port + config.PushPath();
  for (const auto& [k, v] : PushHeaders(config, "")) {
    if (k != "K6-Idempotency-Key") o.headers.Add(k, v);
  }
  o.headers.Add("Content-Type",
                config.api_version == 2 ? "application/x-protobuf" : "application/json");
  o.idempotency_header = "K6-Idempotency-Key";
  o.max_connect_timeout = Nanos::max();
  o.max_response_bytes = kMaxAnswerBytes;
  o.truncate_response = true;
  o.max_idle = kMaxIdle;
  return delivery::MakeHttpTransport(std::move(o));
}

Verdict VerdictOf(const Result<delivery::DeliveryReply>& result, int64_t now_unix_seconds) {
  if (!result) {
    Verdict v;
    v.kind = Verdict::kRetry;
    v.what = "transport: " + result.error().message;
    return v;
  }
  return ClassifyResponse(result->status, result->body, result->retry_after, now_unix_seconds);
}

}  // namespace volley::output::cloud
