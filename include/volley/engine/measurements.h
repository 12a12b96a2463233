// What the engine measures: error categories. Metric names are in volley/metrics/names.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "volley/metrics/names.h"

namespace volley::engine {

namespace names = metrics::names;

// The failure categories of specs/standalone-compat.md. Status codes 200-399 are not
// errors. Mapping of failures the engine sees:
//   connect refused/reset, send failure, truncated or malformed body -> kNetwork
//   connect or request timeout                                     -> kTimeout
//   TLS handshake or certificate failure                           -> kTls
//   garbage status line, malformed or oversized header block        -> kOther
enum class ErrorCategory : uint8_t {
  kClient = 0,  // 4xx
  kServer,      // 5xx
  kNetwork,
  kTimeout,
  kTls,
  kOther,
  kCount,
};
inline constexpr size_t kErrorCategoryCount = static_cast<size_t>(ErrorCategory::kCount);
const char* CategoryName(ErrorCategory c);  // "client_error", "server_error", ...

}  // namespace volley::engine
