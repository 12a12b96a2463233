#include "pusher.h"

#include <httplib.h>

#include <algorithm>
#include <cstdio>

namespace volley::output::cloud {
namespace {

constexpr size_t kMaxAnswerBytes = 16 * 1024;

void SetTimeouts(httplib::Client& client, Nanos timeout) {
  const int64_t us = std::max<int64_t>(timeout.count() / 1000, 1000);
  const time_t sec = static_cast<time_t>(us / 1'000'000);
  const time_t usec = static_cast<time_t>(us % 1'000'000);
  client.set_connection_timeout(sec, usec);
  client.set_read_timeout(sec, usec);
  client.set_write_timeout(sec, usec);
}

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
    : config_(config),
      path_(config.PushPath()),
      client_(std::make_unique<httplib::Client>(config.scheme_host_port)) {
  client_->set_keep_alive(true);
}

HttpPusher::~HttpPusher() = default;

Verdict HttpPusher::Push(const PushRequest& request, Nanos timeout) {
  if (MonotonicNow() - last_used_ > kMaxIdle) client_->stop();  // closes an idle connection
  SetTimeouts(*client_, timeout);
  httplib::Request req;
  req.method = "POST";
  req.path = path_;
  for (const auto& [k, v] : PushHeaders(config_, request.idempotency_key))
    req.headers.emplace(k, v);
  req.headers.emplace("Content-Type",
                      config_.api_version == 2 ? "application/x-protobuf" : "application/json");
  req.body = request.body;
  // The answer's body only matters for its JSON error: keep the first bytes, so a hostile
  // or broken server cannot make the output hold a large body.
  std::string answer;
  req.content_receiver = [&answer](const char* data, size_t len, uint64_t, uint64_t) {
    if (answer.size() < kMaxAnswerBytes) {
      answer.append(data, std::min(len, kMaxAnswerBytes - answer.size()));
    }
    return true;
  };
  auto res = client_->send(req);
  last_used_ = MonotonicNow();
  if (!res) {
    Verdict v;
    v.kind = Verdict::kRetry;
    v.what = "transport: " + httplib::to_string(res.error());
    return v;
  }
  return ClassifyResponse(res->status, answer, res->get_header_value("Retry-After"));
}

void HttpPusher::Interrupt() { client_->stop(); }

}  // namespace volley::output::cloud
