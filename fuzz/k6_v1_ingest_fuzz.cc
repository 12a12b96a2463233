// The v1 ingest decode path: JSON -> samples (k6_v1.h) -> per-second values -> normalization,
// exactly as `volley ingest` runs it on POST /v1/metrics/{run}.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "volley/ingest/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)volley::ingest::DecodeV1Body(body, volley::ingest::BodyLimits{});
  return 0;
}
