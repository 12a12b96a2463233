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

SteadyClock& SteadyClock::Instance() {
  static SteadyClock clock;
  return clock;
}

}  // namespace volley
