// The leader's decoder of a node's MetricsBatch (wire/volley_metrics.h, issue 14): bytes
// from a possibly hostile node. Invariants: no crash; what is accepted holds the limits,
// encodes again, and decodes to the same batch (decode -> encode -> decode stable).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "volley/wire/volley_metrics.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace node = volley::wire::node;
  node::Limits limits;
  limits.max_series = 2'000;
  limits.max_histogram_buckets = 200'000;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto batch = node::DecodeMetricsBatch(bytes, limits);
  if (!batch) {
    FUZZ_CHECK(!batch.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(batch->snapshot.size() <= limits.max_series);
  size_t dense = 0;
  for (const auto& [key, value] : batch->snapshot) {
    FUZZ_CHECK(key.labels.size() <= limits.max_labels_per_series);
    FUZZ_CHECK(!node::WhyNotEncodable(value));
    if (const auto* h = std::get_if<volley::metrics::Histogram>(&value)) {
      h->ForEachBucket([&](uint32_t index, uint64_t count) {
        FUZZ_CHECK(index <= volley::metrics::Histogram::kMaxIndex && count > 0);
      });
      dense += h->storage_buckets();
      (void)h->Percentile(99);
    }
  }
  // Growth is geometric (64 buckets at least): storage stays within 2x the limit.
  FUZZ_CHECK(dense <= 2 * limits.max_histogram_buckets + 64 * batch->snapshot.size());
  auto again = node::EncodeMetricsBatch(*batch, limits);
  FUZZ_CHECK(again.has_value());
  auto back = node::DecodeMetricsBatch(*again, limits);
  FUZZ_CHECK(back.has_value());
  FUZZ_CHECK(*back == *batch);
  return 0;
}
