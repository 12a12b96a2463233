// What extractors and assertions see of a response (engine internal).
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include "volley/common/clock.h"
#include "volley/common/strings.h"

namespace volley::engine::scenario {

// One header field: name and value (trimmed), as the response parser delivers them.
using HeaderField = std::pair<std::string_view, std::string_view>;

// A borrowed view of one complete response. Everything it points to is owned by the caller
// (the connection's parser) and must stay valid while extractors and assertions run.
struct ResponseView {
  int status = 0;
  std::span<const HeaderField> headers;  // in arrival order
  std::string_view body;                 // decoded (de-chunked) body as captured
  Nanos elapsed{0};                      // request duration, for responseTime
};

// The value of the first header named `name` (ASCII case-insensitive), or nullopt.
inline std::optional<std::string_view> FindHeader(const ResponseView& view, std::string_view name) {
  for (const auto& [n, v] : view.headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

}  // namespace volley::engine::scenario
