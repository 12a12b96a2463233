// libFuzzer target for the remote write decoder (src/wire/prometheus/prometheus_rw.cc): a
// snappy-compressed WriteRequest as a receiver (or a test) reads it. Untrusted bytes: it
// must never crash, must refuse more than its uncompressed bound, must be deterministic,
// and what it accepts must encode and decode back to the same series.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "fuzz_check.h"
#include "volley/wire/prometheus_rw.h"

namespace {

namespace rw = volley::wire::prometheus;

bool SameValue(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b));
}

bool Same(const std::vector<rw::RwSeries>& a, const std::vector<rw::RwSeries>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].labels != b[i].labels || a[i].samples.size() != b[i].samples.size()) return false;
    for (size_t j = 0; j < a[i].samples.size(); ++j) {
      if (a[i].samples[j].timestamp_ms != b[i].samples[j].timestamp_ms) return false;
      if (!SameValue(a[i].samples[j].value, b[i].samples[j].value)) return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  constexpr size_t kBound = 1u << 20;
  auto a = rw::DecodeBody(bytes, kBound);
  auto b = rw::DecodeBody(bytes, kBound);
  FUZZ_CHECK(a.has_value() == b.has_value());
  if (!a) {
    FUZZ_CHECK(!a.error().message.empty());
  } else {
    FUZZ_CHECK(Same(*a, *b));
    auto again = rw::DecodeBody(rw::EncodeBody(*a), 64u << 20);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(Same(*a, *again));
  }
  // The same bytes as an uncompressed WriteRequest.
  auto raw = rw::DecodeWriteRequest(bytes);
  if (raw) FUZZ_CHECK(Same(*raw, *rw::DecodeWriteRequest(rw::EncodeWriteRequest(*raw))));
  return 0;
}
