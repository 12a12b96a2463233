#include "volley/common/parse.h"

#include <charconv>
#include <cmath>
#include <string>

#include "volley/common/strings.h"

namespace volley {

Result<bool> ParseBool(std::string_view text) {
  const std::string s = ToLower(text);
  if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "0" || s == "no" || s == "off" || s.empty()) return false;
  return MakeError(ErrorCode::kInvalidArgument,
                   "expected true or false, got '" + std::string(text) + "'");
}

Result<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
    return MakeError(ErrorCode::kInvalidArgument, "not an integer: '" + std::string(s) + "'");
  }
  return v;
}

Result<int64_t> ParseIntInRange(std::string_view s, int64_t lo, int64_t hi) {
  auto v = ParseInt(s);
  if (!v || *v < lo || *v > hi) {
    return MakeError(ErrorCode::kInvalidArgument, "must be an integer from " + std::to_string(lo) +
                                                      " to " + std::to_string(hi) + ", got '" +
                                                      std::string(s) + "'");
  }
  return v;
}

Result<double> ParseNumber(std::string_view s) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) {
    return MakeError(ErrorCode::kInvalidArgument, "not a finite number: '" + std::string(s) + "'");
  }
  return v;
}

}  // namespace volley
