// Histogram spans (the sparse bucket form of TrendHdrValue) and snappy block framing.
#include <snappy.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "volley/wire/k6_metrics.h"

namespace volley::wire::k6 {

using metrics::Histogram;

BucketSpans EncodeSpans(const Histogram& histogram) {
  BucketSpans out;
  bool first = true;
  uint32_t previous = 0;
  histogram.ForEachBucket([&](uint32_t index, uint64_t count) {
    // The wire's counters are uint32; callers skip histograms with more samples than that
    // (EncodeMetricSet does), so the clamp only guards direct callers.
    out.counters.push_back(
        static_cast<uint32_t>(std::min<uint64_t>(count, std::numeric_limits<uint32_t>::max())));
    if (first) {
      out.spans.emplace_back(index, 1);
      first = false;
    } else if (index == previous + 1) {
      ++out.spans.back().second;
    } else {
      out.spans.emplace_back(index - previous - 1, 1);
    }
    previous = index;
  });
  return out;
}

Result<std::vector<std::pair<uint32_t, uint64_t>>> DecodeSpans(const BucketSpans& spans) {
  std::vector<std::pair<uint32_t, uint64_t>> out;
  uint64_t total_length = 0;
  for (const auto& [offset, length] : spans.spans) {
    if (length == 0) {
      return MakeError(ErrorCode::kProtocol, "spans: a span has length 0");
    }
    total_length += length;  // at most 2^32 spans of 2^32: no overflow in 64 bits
  }
  if (total_length != spans.counters.size()) {
    return MakeError(ErrorCode::kProtocol, "spans: the spans cover " +
                                               std::to_string(total_length) +
                                               " buckets but there are " +
                                               std::to_string(spans.counters.size()) + " counters");
  }
  out.reserve(spans.counters.size());
  size_t c = 0;
  uint64_t next = 0;  // the index after the previous bucket
  for (size_t s = 0; s < spans.spans.size(); ++s) {
    const auto [offset, length] = spans.spans[s];
    uint64_t index = next + offset;  // the first span's offset is absolute (next == 0)
    if (index + length - 1 > Histogram::kMaxIndex) {
      return MakeError(ErrorCode::kProtocol, "spans[" + std::to_string(s) + "]: bucket index " +
                                                 std::to_string(index + length - 1) +
                                                 " is beyond the largest (" +
                                                 std::to_string(Histogram::kMaxIndex) + ")");
    }
    for (uint32_t k = 0; k < length; ++k, ++index) {
      const uint32_t count = spans.counters[c++];
      if (count != 0) out.emplace_back(static_cast<uint32_t>(index), count);
    }
    next = index;
  }
  return out;
}

std::string SnappyCompress(std::string_view raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

Result<std::string> SnappyUncompress(std::string_view compressed, size_t max_uncompressed) {
  // The framed format starts with its stream identifier chunk: say so rather than "corrupt".
  static constexpr std::string_view kFramedMagic("\xff\x06\x00\x00sNaPpY", 10);
  if (compressed.substr(0, kFramedMagic.size()) == kFramedMagic) {
    return MakeError(ErrorCode::kProtocol,
                     "snappy: the body is in the framed (stream) format; send the block format");
  }
  size_t length = 0;
  if (!snappy::GetUncompressedLength(compressed.data(), compressed.size(), &length)) {
    return MakeError(ErrorCode::kProtocol,
                     "snappy: the body is not snappy block data (bad length header)");
  }
  if (length > max_uncompressed) {
    return MakeError(ErrorCode::kProtocol,
                     "snappy: the body would uncompress to " + std::to_string(length) +
                         " bytes, over the limit of " + std::to_string(max_uncompressed));
  }
  std::string out(length, '\0');
  if (!snappy::RawUncompress(compressed.data(), compressed.size(), out.data())) {
    return MakeError(ErrorCode::kProtocol, "snappy: the body is corrupt (block does not decode)");
  }
  return out;
}

}  // namespace volley::wire::k6
