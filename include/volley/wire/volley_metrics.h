// volley's node protocol for metrics (proto/volley/v1/metrics.proto, DESIGN.md §5, issue
// 14): the exact wire form of a node's cumulative Snapshot, as the leader receives it on
// StreamMetrics and commits it to the Raft log. Pure functions: no I/O, no threads;
// thread-safe.
//
// Exact: DecodeMetricsBatch(EncodeMetricsBatch(b)) == b for every batch the encoder
// accepts. Histograms travel with their own bucket indexes (no re-bucketing) and their
// exact accumulators (Histogram::Accumulators), so merging decoded histograms on the
// leader is merging the nodes' histograms.
//
// Sparse buckets: runs of consecutive non-empty indexes as (gap, length) pairs plus one
// count per bucket (the proto's TrendValue). A latency histogram's buckets cluster in a
// few runs, so a bucket costs about its count's varint (1-3 bytes) on the wire.
//
// What a batch may hold (the encoder refuses what the decoder would, so a node learns at
// the source; both give kProtocol on the decoding side, kInvalidArgument when encoding):
// - identity: node_id, region and run_id non-empty, at most max_string_bytes, no control
//   characters;
// - series: a non-empty name; labels sorted by key, unique non-empty keys; no two series
//   with one key; at most max_series series and max_labels_per_series labels each;
//   strings at most max_string_bytes; every text (ids, names, labels) valid UTF-8;
// - counter: finite, >= 0. gauge: last finite; count == 0 -> min/max/sum are the empty
//   Gauge's (+inf, -inf, 0); count > 0 -> finite min <= max and finite sum. rate:
//   nonzero <= total;
// - trend: resolution finite and > 0; bucket indexes <= Histogram::kMaxIndex, counts >= 1
//   in canonical runs; total count without overflow; each recording path either empty
//   (its sentinels, sum 0) or with min <= max (units: sum <= count * max; doubles:
//   finite); every NaN and infinity is refused; the dense storage of all trends (the
//   highest index + 1 of each) at most max_histogram_buckets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "volley/common/result.h"
#include "volley/metrics/snapshot.h"

namespace volley::wire::node {

// Who sent a batch, for which run, and its place in the node's sequence.
struct BatchIdentity {
  std::string node_id;
  std::string region;
  std::string run_id;
  uint64_t seq = 0;
  int64_t sent_unix_nanos = 0;
  bool final = false;  // the node's share has ended; no further batch will come
  friend bool operator==(const BatchIdentity&, const BatchIdentity&) = default;
};

struct MetricsBatch {
  BatchIdentity id;
  metrics::Snapshot snapshot;  // cumulative since the run's start
  friend bool operator==(const MetricsBatch&, const MetricsBatch&) = default;
};

// Bounds on one batch. The defaults are ~100x a scenario run's batch (a few hundred
// series, ~100 KiB); the worst case they allow is ~8 MiB of input, ~64 MiB of parsed
// protobuf objects and 32 MiB of histogram storage.
struct Limits {
  size_t max_bytes = size_t{8} << 20;
  // Protobuf messages (every nested one counts), scanned before anything is built.
  size_t max_messages = size_t{1} << 20;
  size_t max_series = 50'000;
  size_t max_labels_per_series = 64;
  size_t max_string_bytes = 1024;
  size_t max_histogram_buckets = size_t{4} << 20;  // 8 bytes each
};

// The protobuf bytes of `batch`. kInvalidArgument naming the series and the value when
// something cannot travel (see above), so a NaN is found where it was made.
Result<std::string> EncodeMetricsBatch(const MetricsBatch& batch, const Limits& limits = {});

// Parses and checks a batch from an untrusted node. Every problem is a kProtocol error
// naming the field (`series[12] "request_duration_seconds": trend bucket index 9000 is
// above 7423`); nothing is partially returned.
Result<MetricsBatch> DecodeMetricsBatch(std::string_view bytes, const Limits& limits = {});

// Why `value` cannot travel, or nullopt when it can (the per-value checks above).
std::optional<std::string> WhyNotEncodable(const metrics::MetricValue& value);

// A node's last batch with the degraded time its leader counted (proto NodeCheckpoint):
// what the leader commits to Raft. Decoding checks the batch as DecodeMetricsBatch does
// and refuses a negative degraded time.
struct NodeCheckpoint {
  MetricsBatch batch;
  int64_t degraded_nanos = 0;
  friend bool operator==(const NodeCheckpoint&, const NodeCheckpoint&) = default;
};
Result<std::string> EncodeNodeCheckpoint(const NodeCheckpoint& checkpoint,
                                         const Limits& limits = {});
Result<NodeCheckpoint> DecodeNodeCheckpoint(std::string_view bytes, const Limits& limits = {});

}  // namespace volley::wire::node
