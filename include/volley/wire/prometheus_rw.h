// Prometheus remote write 1.0 (specs/integrations.md §3): the label rules, and the
// WriteRequest body (protobuf, then snappy block format). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "volley/common/result.h"

namespace volley::wire::prometheus {

using Labels = std::vector<std::pair<std::string, std::string>>;

// The NaN Prometheus reads as a stale marker (the series ended).
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
double StaleNaN();
bool IsStaleNaN(double value);

struct RwSample {
  int64_t timestamp_ms = 0;
  double value = 0;
};

// One series: the full label set, `__name__` included, in canonical order.
struct RwSeries {
  Labels labels;
  std::vector<RwSample> samples;  // in timestamp order
};

// The canonical label set of a series named `name`: `labels` plus `__name__`, sorted by
// name in byte order (so uppercase names sort before `__name__`). Errors
// (kInvalidArgument, naming the label): an empty name or value (`name` included), the
// same label name twice, or a `__name__` among `labels`.
Result<Labels> CanonicalLabels(std::string_view name, const Labels& labels);

// The serialized WriteRequest of `series` (uncompressed protobuf).
std::string EncodeWriteRequest(const std::vector<RwSeries>& series);
// What EncodeWriteRequest wrote. Errors: kProtocol when `bytes` is not a WriteRequest.
Result<std::vector<RwSeries>> DecodeWriteRequest(std::string_view bytes);

// The POST body: EncodeWriteRequest, snappy block compressed.
std::string EncodeBody(const std::vector<RwSeries>& series);
// The reverse of EncodeBody, refusing more than `max_uncompressed` bytes. Errors:
// kProtocol.
Result<std::vector<RwSeries>> DecodeBody(std::string_view body,
                                         size_t max_uncompressed = 64u << 20);

}  // namespace volley::wire::prometheus
