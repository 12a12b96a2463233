// The v2 ingest decode path: snappy block -> metrics.MetricSet -> validation (types, sample
// kinds, spans, counts, limits) -> normalization, exactly as `volley ingest` runs it.
// The first byte picks the entry: 0 feeds the rest as a request body (snappy first); 1
// compresses the rest so the fuzzer reaches the protobuf and validation layers directly.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "volley/ingest/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  volley::ingest::BodyLimits limits;
  limits.max_decompressed = 1 << 20;
  if (data[0] & 1) {
    (void)volley::ingest::DecodeV2Body(volley::wire::k6::SnappyCompress(rest), limits);
  } else {
    (void)volley::ingest::DecodeV2Body(rest, limits);
  }
  return 0;
}
