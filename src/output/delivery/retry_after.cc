#include <time.h>

#include <string>

#include "volley/common/parse.h"
#include "volley/common/strings.h"
#include "volley/output/delivery.h"

namespace volley::output::delivery {

std::optional<Nanos> ParseRetryAfter(std::string_view value, int64_t now_unix_seconds) {
  const std::string_view s = Trim(value);
  if (s.empty()) return std::nullopt;
  const double cap = std::chrono::duration<double>(kMaxRetryAfter).count();
  if (s.front() >= '0' && s.front() <= '9') {
    const Result<double> secs = ParseNumber(s);
    if (!secs || *secs < 0) return std::nullopt;
    return Nanos(static_cast<int64_t>(std::min(*secs, cap) * 1e9));
  }
  // IMF-fixdate only (RFC 9110 §5.6.7); the obsolete forms are not worth the code.
  const std::string text(s);
  tm t{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &t);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const int64_t when = timegm(&t);
  if (when <= now_unix_seconds) return Nanos(0);
  const int64_t secs = when - now_unix_seconds;
  if (static_cast<double>(secs) >= cap) return kMaxRetryAfter;
  return Nanos(std::chrono::seconds(secs));
}

}  // namespace volley::output::delivery
