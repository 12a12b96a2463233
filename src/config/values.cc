// The parsers of the plan's composite values (headers, load model, stages, address
// override), shared by the environment, flags and YAML.
#include "volley/config/values.h"

#include <string>

#include "volley/common/duration.h"
#include "volley/common/http_lex.h"
#include "volley/common/parse.h"
#include "volley/common/strings.h"

namespace volley::config {

Result<std::vector<Header>> ParseHeaderList(std::string_view text) {
  std::vector<Header> headers;
  std::string item;
  auto flush = [&]() -> Result<void> {
    std::string_view it = Trim(item);
    if (it.empty()) return {};
    size_t colon = it.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "header '" + std::string(it) + "' must look like 'Name: value'");
    }
    std::string name(Trim(it.substr(0, colon)));
    if (!http::IsToken(name)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "header name '" + name + "' has an invalid character");
    }
    headers.emplace_back(std::move(name), std::string(Trim(it.substr(colon + 1))));
    item.clear();
    return {};
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == ',') {
      item += ',';
      ++i;
    } else if (text[i] == ',') {
      if (auto r = flush(); !r) return tl::unexpected(r.error());
    } else if (text[i] == '\r' || text[i] == '\n') {
      return MakeError(ErrorCode::kInvalidArgument, "headers must not contain line breaks");
    } else {
      item += text[i];
    }
  }
  if (auto r = flush(); !r) return tl::unexpected(r.error());
  return headers;
}

Result<LoadModelKind> ParseLoadModelKind(std::string_view text) {
  std::string s = ToLower(Trim(text));
  if (s == "concurrent") return LoadModelKind::kConcurrent;
  if (s == "rps") return LoadModelKind::kRps;
  if (s == "ramprps" || s == "ramp") return LoadModelKind::kRamp;
  if (s == "dailytraffic") return LoadModelKind::kDailyTraffic;
  if (s == "stages") return LoadModelKind::kStages;
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown load model '" + std::string(text) +
                       "': use Concurrent, Rps, RampRps, DailyTraffic or Stages");
}

Result<std::vector<Stage>> ParseStages(std::string_view text) {
  std::vector<Stage> stages;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string_view item = Trim(
        text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "stage '" + std::string(item) + "' must be 'duration:rate', e.g. 30s:100");
    }
    auto d = ParseDuration(item.substr(0, colon));
    if (!d) return tl::unexpected(d.error());
    auto r = ParseNumber(Trim(item.substr(colon + 1)));
    if (!r || *r < 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "stage '" + std::string(item) + "': rate must be a number >= 0");
    }
    stages.push_back(Stage{*d, *r});
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return stages;
}

Result<void> ParseResolve(std::string_view text, TestPlan& plan) {
  // host:ip:port; the ip may be an IPv6 literal in brackets.
  std::string_view s = Trim(text);
  auto bad = [&]() {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid override '" + std::string(text) +
                         "': expected host:ip:port, e.g. api.example.com:127.0.0.1:8443");
  };
  size_t first = s.find(':');
  size_t last = s.rfind(':');
  if (first == std::string_view::npos || first == last) return bad();
  std::string ip(s.substr(first + 1, last - first - 1));
  if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  auto port = ParseInt(Trim(s.substr(last + 1)));
  if (first == 0 || ip.empty() || !port || *port < 1 || *port > 65535) return bad();
  plan.resolve_host = std::string(s.substr(0, first));
  plan.resolve_ip = ip;
  plan.resolve_port = static_cast<uint16_t>(*port);
  return {};
}

}  // namespace volley::config
