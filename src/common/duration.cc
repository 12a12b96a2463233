#include "volley/common/duration.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

#include "volley/common/strings.h"

namespace volley {
namespace {

// Multiplier in nanoseconds for a unit suffix, or 0 if unknown.
double UnitNanos(std::string_view unit) {
  if (unit == "ns") return 1;
  if (unit == "us" || unit == "µs") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  if (unit == "m") return 60e9;
  if (unit == "h") return 3600e9;
  if (unit == "d") return 86400e9;
  return 0;
}

Result<Nanos> ParseWithDefaultUnit(std::string_view text, double default_unit) {
  std::string_view s = Trim(text);
  auto bad = [&]() {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid duration '" + std::string(text) +
                         "': use a number with a unit (500ms, 30s, 5m, 2h, 1d), e.g. 3m20s");
  };
  if (s.empty()) return bad();
  double total = 0;
  bool bare = true;
  while (!s.empty()) {
    size_t i = 0;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == 0) return bad();
    double number = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + i, number);
    if (ec != std::errc() || ptr != s.data() + i) return bad();
    s.remove_prefix(i);
    size_t j = 0;
    while (j < s.size() && !std::isdigit(static_cast<unsigned char>(s[j])) && s[j] != '.') ++j;
    std::string_view unit = s.substr(0, j);
    s.remove_prefix(j);
    if (unit.empty()) {
      if (!bare || !s.empty()) return bad();
      total += number * default_unit;
      break;
    }
    bare = false;
    double mult = UnitNanos(unit);
    if (mult == 0) return bad();
    total += number * mult;
  }
  if (!std::isfinite(total) || total > 9.2e18) return bad();
  return Nanos(static_cast<int64_t>(std::llround(total)));
}

}  // namespace

Result<Nanos> ParseDuration(std::string_view text) { return ParseWithDefaultUnit(text, 1e9); }

Result<Nanos> ParseDurationMillisDefault(std::string_view text) {
  return ParseWithDefaultUnit(text, 1e6);
}

Result<uint64_t> ParseSize(std::string_view text) {
  std::string_view s = Trim(text);
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + i, n);
  const std::string unit = ToLower(s.substr(i));
  uint64_t mult = 0;
  if (unit.empty() || unit == "b")
    mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib")
    mult = 1ull << 10;
  else if (unit == "m" || unit == "mb" || unit == "mib")
    mult = 1ull << 20;
  else if (unit == "g" || unit == "gb" || unit == "gib")
    mult = 1ull << 30;
  if (i == 0 || ec != std::errc() || ptr != s.data() + i || mult == 0 || n > UINT64_MAX / mult) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid size '" + std::string(text) + "': use bytes or 4k, 1m, 1g");
  }
  return n * mult;
}

std::string FormatDuration(Nanos d) {
  const int64_t ns = d.count();
  char buf[64];
  if (ns < 1'000) {
    snprintf(buf, sizeof buf, "%lldns", static_cast<long long>(ns));
  } else if (ns < 1'000'000) {
    snprintf(buf, sizeof buf, "%.2fus", ns / 1e3);
  } else if (ns < 1'000'000'000) {
    snprintf(buf, sizeof buf, "%.2fms", ns / 1e6);
  } else if (ns < 60'000'000'000) {
    snprintf(buf, sizeof buf, "%.2fs", ns / 1e9);
  } else {
    const int64_t s = ns / 1'000'000'000;
    if (s < 3600) {
      snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
               static_cast<long long>(s % 60));
    } else {
      snprintf(buf, sizeof buf, "%lldh%02lldm%02llds", static_cast<long long>(s / 3600),
               static_cast<long long>((s / 60) % 60), static_cast<long long>(s % 60));
    }
  }
  return buf;
}

}  // namespace volley
