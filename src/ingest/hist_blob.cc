#include "hist_blob.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace volley::ingest {
namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string EncodeHistogramBlob(const metrics::Histogram& h) {
  std::string out;
  PutVarint(h.extra_low(), &out);
  PutVarint(h.extra_high(), &out);
  uint64_t n = 0;
  h.ForEachBucket([&n](uint32_t, uint64_t) { ++n; });
  PutVarint(n, &out);
  uint32_t previous = 0;
  h.ForEachBucket([&](uint32_t index, uint64_t count) {
    PutVarint(index - previous, &out);
    PutVarint(count, &out);
    previous = index;
  });
  return out;
}

bool DecodeHistogramBlob(std::string_view blob, double resolution, double min, double max,
                         double sum, metrics::Histogram* out) {
  uint64_t low = 0, high = 0, n = 0;
  if (!GetVarint(&blob, &low) || !GetVarint(&blob, &high) || !GetVarint(&blob, &n)) return false;
  if (n > metrics::Histogram::kNumBuckets) return false;
  std::vector<std::pair<uint32_t, uint64_t>> buckets;
  buckets.reserve(n);
  uint64_t index = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t delta = 0, count = 0;
    if (!GetVarint(&blob, &delta) || !GetVarint(&blob, &count)) return false;
    index += delta;
    if (index > metrics::Histogram::kMaxIndex) return false;
    buckets.emplace_back(static_cast<uint32_t>(index), count);
  }
  if (!blob.empty()) return false;
  return metrics::Histogram::FromParts(resolution, buckets, low, high, min, max, sum, out);
}

}  // namespace volley::ingest
