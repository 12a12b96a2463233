#include "volley/target/options.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>

#include "volley/common/duration.h"
#include "volley/common/parse.h"
#include "volley/common/strings.h"

namespace volley::target {
namespace {

// Parses all of `s` as a decimal unsigned integer no larger than `max`.
bool ParseUint(std::string_view s, uint64_t max, uint64_t* out) {
  if (s.empty() || s[0] == '-') return false;
  const auto v = ParseIntInRange(s, 0, static_cast<int64_t>(std::min<uint64_t>(max, INT64_MAX)));
  if (!v) return false;
  *out = static_cast<uint64_t>(*v);
  return true;
}

tl::unexpected<Error> Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace

Result<LatencyRange> ParseLatency(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Invalid("invalid latency '" + std::string(text) + "': " + why +
                   "; use a duration like 20ms or a range like 10ms-30ms");
  };
  std::string_view s = Trim(text);
  if (s.empty()) return bad("empty");
  const size_t dash = s.find('-');
  std::string_view lo = s.substr(0, dash);
  std::string_view hi = dash == std::string_view::npos ? lo : s.substr(dash + 1);
  if (hi.find('-') != std::string_view::npos) return bad("more than one '-'");
  auto min = ParseDuration(lo);
  if (!min) return bad("'" + std::string(Trim(lo)) + "' is not a duration");
  auto max = ParseDuration(hi);
  if (!max) return bad("'" + std::string(Trim(hi)) + "' is not a duration");
  if (*max < *min) return bad("the range goes backwards");
  return LatencyRange{*min, *max};
}

Result<std::vector<StatusWeight>> ParseStatusMix(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Invalid("invalid status mix '" + std::string(text) + "': " + why +
                   "; use CODE:WEIGHT pairs like 200:90,503:10 (codes 200-599, weights 1-" +
                   std::to_string(kMaxStatusWeight) + ")");
  };
  std::vector<StatusWeight> mix;
  std::string_view rest = text;
  if (Trim(rest).empty()) return bad("empty");
  while (true) {
    const size_t comma = rest.find(',');
    std::string_view item = Trim(rest.substr(0, comma));
    if (item.empty()) return bad("an item is empty");
    const size_t colon = item.find(':');
    if (colon == std::string_view::npos) return bad("'" + std::string(item) + "' has no ':'");
    uint64_t code = 0;
    uint64_t weight = 0;
    if (!ParseUint(Trim(item.substr(0, colon)), 599, &code) || code < 200) {
      return bad("'" + std::string(item) + "' has no status code in 200-599");
    }
    if (!ParseUint(Trim(item.substr(colon + 1)), kMaxStatusWeight, &weight) || weight == 0) {
      return bad("'" + std::string(item) + "' has no weight in 1-" +
                 std::to_string(kMaxStatusWeight));
    }
    for (const StatusWeight& sw : mix) {
      if (sw.code == static_cast<int>(code)) {
        return bad("status " + std::to_string(code) + " appears twice");
      }
    }
    mix.push_back(StatusWeight{static_cast<int>(code), static_cast<uint32_t>(weight)});
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return mix;
}

Result<StallSpec> ParseStall(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Invalid("invalid stall '" + std::string(text) + "': " + why +
                   "; use DURATION/PERIOD like 1s/5s (stop answering for 1s every 5s) with "
                   "0 < DURATION < PERIOD");
  };
  std::string_view s = Trim(text);
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos) return bad("no '/'");
  auto duration = ParseDuration(s.substr(0, slash));
  if (!duration) return bad("'" + std::string(Trim(s.substr(0, slash))) + "' is not a duration");
  auto period = ParseDuration(s.substr(slash + 1));
  if (!period) return bad("'" + std::string(Trim(s.substr(slash + 1))) + "' is not a duration");
  if (duration->count() <= 0) return bad("DURATION must be > 0");
  if (*duration >= *period) return bad("DURATION must be shorter than PERIOD");
  return StallSpec{*duration, *period};
}

Result<void> ValidateTargetOptions(const TargetOptions& options) {
  auto listen = ParseListenAddress(options.listen);
  if (!listen) return tl::unexpected(listen.error());
  if (options.threads < 0 || options.threads > kMaxTargetThreads) {
    return Invalid("target threads: must be 0 (one per CPU) to " +
                   std::to_string(kMaxTargetThreads) + ", got " + std::to_string(options.threads));
  }
  if (options.latency_min.count() < 0 || options.latency_max < options.latency_min) {
    return Invalid("target latency: need 0 <= min <= max, got " +
                   FormatDuration(options.latency_min) + "-" + FormatDuration(options.latency_max));
  }
  for (size_t i = 0; i < options.status_mix.size(); ++i) {
    const StatusWeight& sw = options.status_mix[i];
    if (sw.code < 200 || sw.code > 599 || sw.weight == 0 || sw.weight > kMaxStatusWeight) {
      return Invalid("target status mix: entry " + std::to_string(i) + " is " +
                     std::to_string(sw.code) + ":" + std::to_string(sw.weight) +
                     "; need a code in 200-599 and a weight in 1-" +
                     std::to_string(kMaxStatusWeight));
    }
    for (size_t j = 0; j < i; ++j) {
      if (options.status_mix[j].code == sw.code) {
        return Invalid("target status mix: status " + std::to_string(sw.code) + " appears twice");
      }
    }
  }
  const bool no_stall = options.stall_duration.count() == 0 && options.stall_period.count() == 0;
  if (!no_stall &&
      (options.stall_duration.count() <= 0 || options.stall_period <= options.stall_duration)) {
    return Invalid("target stall: need 0 < duration < period (or both 0), got " +
                   FormatDuration(options.stall_duration) + "/" +
                   FormatDuration(options.stall_period));
  }
  if (options.body_size > kMaxTargetBodySize) {
    return Invalid("target body size: at most 1 GiB, got " + std::to_string(options.body_size) +
                   " bytes");
  }
  return {};
}

}  // namespace volley::target
