#include "response.h"

#include <nlohmann/json.hpp>

#include "volley/output/delivery.h"

namespace volley::output::cloud {
namespace {

// k6's error body: {"error": {"code": N, "message": "..."}}; code -1 when absent.
void ParseErrorBody(const std::string& body, int* code, std::string* message) {
  *code = -1;
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return;
  auto it = j.find("error");
  if (it == j.end() || !it->is_object()) return;
  if (auto c = it->find("code"); c != it->end() && c->is_number_integer()) {
    const int64_t n = c->get<int64_t>();
    *code = n >= 0 && n <= 1'000'000 ? static_cast<int>(n) : -1;
  }
  if (auto m = it->find("message"); m != it->end() && m->is_string()) {
    *message = m->get<std::string>().substr(0, 200);
    for (char& ch : *message) {
      if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = ' ';  // one log line
    }
  }
}

}  // namespace

Verdict ClassifyResponse(int status, const std::string& body, const std::string& retry_after_header,
                         int64_t now_unix_seconds) {
  Verdict v;
  v.status = status;
  int code = -1;
  std::string message;
  ParseErrorBody(body, &code, &message);
  v.what = "HTTP " + std::to_string(status) + (message.empty() ? "" : ": " + message);
  if (status >= 200 && status < 300) {
    v.kind = Verdict::kOk;
  } else if (status == 429 || status == 408 || status >= 500) {
    v.kind = Verdict::kRetry;
    v.retry_after = delivery::ParseRetryAfter(retry_after_header, now_unix_seconds);
  } else if (status == 403 && code == 4) {
    v.kind = Verdict::kRefused;
  } else {
    v.kind = Verdict::kReject;
  }
  return v;
}

}  // namespace volley::output::cloud
