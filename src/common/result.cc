#include "volley/common/result.h"

#include <errno.h>
#include <string.h>

#include "volley/common/clock.h"

namespace volley {

Error ErrnoError(const std::string& what, int err) {
  char buf[256];
  const char* text = strerror_r(err, buf, sizeof buf);
  ErrorCode code = ErrorCode::kIo;
  if (err == ETIMEDOUT) code = ErrorCode::kTimeout;
  return Error{code, what + ": " + text};
}

std::vector<std::string> ProblemLines(const Error& error) {
  if (!error.problems.empty()) return error.problems;
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < error.message.size()) {
    const size_t nl = error.message.find('\n', start);
    lines.push_back(error.message.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return lines;
}

SteadyClock& SteadyClock::Instance() {
  static SteadyClock clock;
  return clock;
}

}  // namespace volley
