// libFuzzer target for the scenario JSON paths (src/engine/scenario/json_path.h) over
// arbitrary response bodies.
//
// Input: a JSON path, a newline, then the body. The path is compiled (errors are fine); if
// it compiles, it is evaluated on the body twice through one cache (the second must agree
// and must not parse again) and once through a fresh cache with a small size limit.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "scenario/json_path.h"

using volley::engine::scenario::JsonBodyCache;
using volley::engine::scenario::JsonPath;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  std::string_view path_text = input.substr(0, nl);
  std::string body(nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1));
  auto path = JsonPath::Compile(path_text);
  if (!path) {
    if (path.error().message.empty()) std::abort();
    return 0;
  }
  JsonBodyCache cache(JsonBodyCache::Limits{.max_body_bytes = 1 << 20, .max_depth = 64});
  std::string first, second;
  bool a = path->Evaluate(body, cache, &first);
  uint64_t parses = cache.parse_count();
  bool b = path->Evaluate(body, cache, &second);
  if (a != b || first != second || cache.parse_count() != parses) std::abort();
  if (path->Exists(body, cache) != a) std::abort();
  JsonBodyCache small(JsonBodyCache::Limits{.max_body_bytes = 64, .max_depth = 4});
  std::string third;
  bool c = path->Evaluate(body, small, &third);
  if (body.size() > 64 && c) std::abort();
  return 0;
}
