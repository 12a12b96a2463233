// MetricsBatch <-> volley.v1.MetricsBatch (proto/volley/v1/metrics.proto). See
// volley_metrics.h for what travels how and what is refused.
#include "volley/wire/volley_metrics.h"

#include <google/protobuf/arena.h>
#include <google/protobuf/io/coded_stream.h>

#include <cmath>
#include <cstdio>
#include <iterator>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "proto_scan.h"
#include "volley/v1/metrics.pb.h"

namespace volley::wire::node {
namespace {

namespace pb = ::volley::v1;
using metrics::Counter;
using metrics::Gauge;
using metrics::Histogram;
using metrics::Rate;
__extension__ using Uint128 = unsigned __int128;

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// "series[3] "name": " (the name cut to 200 bytes), or "batch: ".
std::string Where(int index, std::string_view name) {
  if (index < 0) return "batch: ";
  return "series[" + std::to_string(index) + "] \"" + std::string(name.substr(0, 200)) + "\": ";
}

// Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp, min;
    if ((c & 0xe0) == 0xc0) {
      n = 1, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

// A node id, region or run id: non-empty, bounded, printable.
std::optional<std::string> CheckIdentityField(const char* field, const std::string& value,
                                              size_t max) {
  if (value.empty()) return std::string(field) + " is empty; every batch must name it";
  if (value.size() > max) {
    return std::string(field) + " is " + std::to_string(value.size()) + " bytes, more than " +
           std::to_string(max) + " (limit max_string_bytes)";
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) return std::string(field) + " holds a control character";
  }
  if (!IsUtf8(value)) return std::string(field) + " is not valid UTF-8";
  return std::nullopt;
}

std::optional<std::string> CheckIdentity(const BatchIdentity& id, const Limits& limits) {
  if (auto why = CheckIdentityField("node_id", id.node_id, limits.max_string_bytes)) return why;
  if (auto why = CheckIdentityField("region", id.region, limits.max_string_bytes)) return why;
  if (auto why = CheckIdentityField("run_id", id.run_id, limits.max_string_bytes)) return why;
  return std::nullopt;
}

// The shape of a series key (the value aside).
std::optional<std::string> CheckKey(const metrics::SeriesKey& key, const Limits& limits) {
  const size_t max = limits.max_string_bytes;
  if (key.name.empty()) return "the series name is empty";
  if (key.name.size() > max) {
    return "the name is " + std::to_string(key.name.size()) + " bytes, more than " +
           std::to_string(max) + " (limit max_string_bytes)";
  }
  if (!IsUtf8(key.name)) return "the series name is not valid UTF-8";
  if (key.labels.size() > limits.max_labels_per_series) {
    return std::to_string(key.labels.size()) + " labels, more than " +
           std::to_string(limits.max_labels_per_series) + " (limit max_labels_per_series)";
  }
  for (size_t i = 0; i < key.labels.size(); ++i) {
    const auto& [k, v] = key.labels[i];
    if (k.empty()) return "label " + std::to_string(i) + " has an empty key";
    if (k.size() > max || v.size() > max) {
      return "label \"" + k.substr(0, 200) + "\" is longer than " + std::to_string(max) +
             " bytes (limit max_string_bytes)";
    }
    if (!IsUtf8(k) || !IsUtf8(v)) {
      return "label \"" + k.substr(0, 200) + "\" is not valid UTF-8 (key or value)";
    }
    if (i > 0 && !(key.labels[i - 1].first < k)) {
      return "labels are not sorted by key with unique keys (\"" +
             key.labels[i - 1].first.substr(0, 200) + "\" then \"" + k.substr(0, 200) + "\")";
    }
  }
  return std::nullopt;
}

std::optional<std::string> CheckHistogram(const Histogram& h) {
  const double res = h.min_resolution();
  if (!(res > 0) || !std::isfinite(res)) {
    return "trend resolution must be finite and > 0, got " + Num(res);
  }
  const Histogram::Accumulators a = h.accumulators();
  const Uint128 sum_units = (Uint128{a.sum_units_hi} << 64) | a.sum_units_lo;
  const bool units_empty = a.min_units > a.max_units;
  if (units_empty) {
    if (a.min_units != UINT64_MAX || a.max_units != 0 || sum_units != 0) {
      return "trend units accumulators are inconsistent (min above max but not empty)";
    }
  } else if (sum_units > Uint128{h.count()} * a.max_units || sum_units < a.min_units) {
    return "trend units sum is outside [min_units, count * max_units]";
  }
  const bool doubles_empty = a.min_double == kInf && a.max_double == -kInf;
  if (doubles_empty) {
    if (a.sum_double != 0) return "trend double sum is " + Num(a.sum_double) + " without samples";
  } else if (!std::isfinite(a.min_double) || !std::isfinite(a.max_double) ||
             !std::isfinite(a.sum_double)) {
    return "trend min/max/sum must be finite, got " + Num(a.min_double) + "/" + Num(a.max_double) +
           "/" + Num(a.sum_double);
  } else if (a.min_double > a.max_double) {
    return "trend min " + Num(a.min_double) + " is above max " + Num(a.max_double);
  }
  if ((h.count() == 0) != (units_empty && doubles_empty)) {
    return "trend count " + std::to_string(h.count()) + " disagrees with its accumulators";
  }
  return std::nullopt;
}

// --- Encoding ---------------------------------------------------------------------------

void EncodeTrend(const Histogram& h, pb::TrendValue* out) {
  out->set_resolution(h.min_resolution());
  auto* spans = out->mutable_spans();
  auto* counts = out->mutable_counts();
  int64_t run_start = -1, next = 0, previous_end = 0;  // next: the index after the run
  h.ForEachBucket([&](uint32_t index, uint64_t count) {
    if (run_start >= 0 && index == next) {
      ++next;
    } else {
      if (run_start >= 0) {
        spans->Add(static_cast<uint32_t>(run_start - previous_end));
        spans->Add(static_cast<uint32_t>(next - run_start));
        previous_end = next;
      }
      run_start = index;
      next = int64_t{index} + 1;
    }
    counts->Add(count);
  });
  if (run_start >= 0) {
    spans->Add(static_cast<uint32_t>(run_start - previous_end));
    spans->Add(static_cast<uint32_t>(next - run_start));
  }
  if (h.extra_low() != 0) out->set_extra_low(h.extra_low());
  if (h.extra_high() != 0) out->set_extra_high(h.extra_high());
  const Histogram::Accumulators a = h.accumulators();
  if (a.min_units <= a.max_units) {
    out->set_min_units(a.min_units);
    out->set_max_units(a.max_units);
    out->set_sum_units_lo(a.sum_units_lo);
    out->set_sum_units_hi(a.sum_units_hi);
  }
  if (!(a.min_double == kInf && a.max_double == -kInf)) {
    out->set_min_double(a.min_double);
    out->set_max_double(a.max_double);
  }
  out->set_sum_double(a.sum_double);
}

void EncodeValue(const metrics::MetricValue& value, pb::Series* out) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Counter>) {
          out->mutable_counter()->set_value(v.value);
        } else if constexpr (std::is_same_v<T, Gauge>) {
          auto* g = out->mutable_gauge();
          g->set_last(v.last);
          if (v.count > 0) {
            g->set_count(v.count);
            g->set_min(v.min);
            g->set_max(v.max);
            g->set_sum(v.sum);
          }
        } else if constexpr (std::is_same_v<T, Rate>) {
          auto* r = out->mutable_rate();
          r->set_nonzero(v.nonzero);
          r->set_total(v.total);
        } else {
          EncodeTrend(v, out->mutable_trend());
        }
      },
      value);
}

tl::unexpected<Error> Refuse(const std::string& what) {
  return MakeError(ErrorCode::kInvalidArgument,
                   "metrics batch: cannot encode " + what +
                       " (fix the value at its source; the leader would refuse the batch)");
}

// --- Decoding ---------------------------------------------------------------------------

tl::unexpected<Error> Bad(const std::string& what) {
  return MakeError(ErrorCode::kProtocol, "metrics batch refused: " + what);
}

// Per-call decoding state: the limits and what has been spent of them.
struct Decoder {
  const Limits& limits;
  size_t dense_buckets = 0;
  std::vector<std::pair<uint32_t, uint64_t>> buckets;  // reused between trends

  Result<Histogram> Trend(const std::string& where, const pb::TrendValue& v) {
    const double res = v.resolution();
    if (!(res > 0) || !std::isfinite(res)) {
      return Bad(where + "trend resolution must be finite and > 0, got " + Num(res));
    }
    if (v.spans_size() % 2 != 0) return Bad(where + "trend spans are not (gap, length) pairs");
    buckets.clear();
    int64_t index = 0;  // the next index after the previous run
    int c = 0;
    for (int i = 0; i < v.spans_size(); i += 2) {
      const uint32_t gap = v.spans(i), length = v.spans(i + 1);
      if (length == 0) return Bad(where + "trend span " + std::to_string(i / 2) + " is empty");
      if (i > 0 && gap == 0) {
        return Bad(where + "trend span " + std::to_string(i / 2) +
                   " touches the previous one (gap 0: runs must be maximal)");
      }
      index += gap;
      if (index + length - 1 > int64_t{Histogram::kMaxIndex}) {
        return Bad(where + "trend bucket index " + std::to_string(index + length - 1) +
                   " is above " + std::to_string(Histogram::kMaxIndex) + " (Histogram::kMaxIndex)");
      }
      if (c + static_cast<int64_t>(length) > v.counts_size()) {
        return Bad(where + "trend spans describe more buckets than the " +
                   std::to_string(v.counts_size()) + " counts");
      }
      for (uint32_t k = 0; k < length; ++k, ++c) {
        const uint64_t n = v.counts(c);
        if (n == 0)
          return Bad(where + "trend bucket " + std::to_string(index + k) + " has count 0");
        buckets.emplace_back(static_cast<uint32_t>(index + k), n);
      }
      index += length;
    }
    if (c != v.counts_size()) {
      return Bad(where + "trend has " + std::to_string(v.counts_size()) + " counts for " +
                 std::to_string(c) + " buckets in its spans");
    }
    if (!buckets.empty()) {
      dense_buckets += buckets.back().first + size_t{1};
      if (dense_buckets > limits.max_histogram_buckets) {
        return Bad(where + "the batch's histograms need more than " +
                   std::to_string(limits.max_histogram_buckets) +
                   " buckets in all (limit max_histogram_buckets)");
      }
    }
    if (v.has_min_units() != v.has_max_units() || v.has_min_double() != v.has_max_double()) {
      return Bad(where + "trend carries a min without its max (or a max without its min)");
    }
    if (!v.has_min_units() && (v.sum_units_lo() != 0 || v.sum_units_hi() != 0)) {
      return Bad(where + "trend carries a units sum without units samples");
    }
    Histogram::Accumulators acc;
    if (v.has_min_units()) {
      if (v.min_units() > v.max_units()) {
        return Bad(where + "trend min_units " + std::to_string(v.min_units()) +
                   " is above max_units " + std::to_string(v.max_units()));
      }
      acc.min_units = v.min_units();
      acc.max_units = v.max_units();
      acc.sum_units_lo = v.sum_units_lo();
      acc.sum_units_hi = v.sum_units_hi();
    }
    if (v.has_min_double()) {
      acc.min_double = v.min_double();
      acc.max_double = v.max_double();
    }
    acc.sum_double = v.sum_double();
    Histogram h(res);
    if (!Histogram::FromExactParts(res, buckets, v.extra_low(), v.extra_high(), acc, &h)) {
      return Bad(where + "trend sample count overflows 64 bits");
    }
    if (auto why = CheckHistogram(h)) return Bad(where + *why);
    return h;
  }

  Result<metrics::MetricValue> Value(const std::string& where, const pb::Series& s) {
    switch (s.value_case()) {
      case pb::Series::kCounter:
        return metrics::MetricValue(Counter{s.counter().value()});
      case pb::Series::kGauge: {
        const pb::GaugeValue& g = s.gauge();
        if (g.count() == 0) {
          if (g.min() != 0 || g.max() != 0 || g.sum() != 0) {
            return Bad(where + "gauge without Set() calls (count 0) carries min/max/sum");
          }
          return metrics::MetricValue(Gauge{.last = g.last()});
        }
        return metrics::MetricValue(Gauge{
            .last = g.last(), .min = g.min(), .max = g.max(), .sum = g.sum(), .count = g.count()});
      }
      case pb::Series::kRate:
        return metrics::MetricValue(Rate{s.rate().nonzero(), s.rate().total()});
      case pb::Series::kTrend: {
        auto h = Trend(where, s.trend());
        if (!h) return tl::unexpected(h.error());
        return metrics::MetricValue(std::move(*h));
      }
      case pb::Series::VALUE_NOT_SET:
        break;
    }
    return Bad(where + "no value (one of counter, gauge, rate, trend must be set)");
  }
};

Result<void> ParseBounded(std::string_view bytes, const Limits& limits,
                          google::protobuf::MessageLite* message,
                          const google::protobuf::Descriptor* type, const char* what) {
  if (bytes.size() > limits.max_bytes) {
    return Bad(std::string(what) + " is " + std::to_string(bytes.size()) + " bytes, more than " +
               std::to_string(limits.max_bytes) + " (limit max_bytes)");
  }
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Bad(std::string(what) + " is over 2 GiB");
  }
  const int size = static_cast<int>(bytes.size());
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()), size);
  in.PushLimit(size);
  size_t count = 0;
  if (!CountMessages(type, &in, limits.max_messages, &count)) {
    if (count > limits.max_messages) {
      return Bad(std::string(what) + " holds more than " + std::to_string(limits.max_messages) +
                 " protobuf messages (limit max_messages)");
    }
    return Bad(std::string(what) + " is not valid protobuf (broken wire format)");
  }
  if (!message->ParseFromArray(bytes.data(), size)) {
    return Bad(std::string(what) + " does not parse as " + type->full_name() +
               " (a field of the wrong wire type)");
  }
  return {};
}

}  // namespace

std::optional<std::string> WhyNotEncodable(const metrics::MetricValue& value) {
  return std::visit(
      [](const auto& v) -> std::optional<std::string> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, Counter>) {
          if (!std::isfinite(v.value) || v.value < 0) {
            return "counter value " + Num(v.value) + " is not finite and >= 0";
          }
        } else if constexpr (std::is_same_v<T, Gauge>) {
          if (!std::isfinite(v.last)) return "gauge last value " + Num(v.last) + " is not finite";
          if (v.count == 0) {
            if (v.min != kInf || v.max != -kInf || v.sum != 0) {
              return std::string("gauge without Set() calls (count 0) has min/max/sum set");
            }
          } else if (!std::isfinite(v.min) || !std::isfinite(v.max) || !std::isfinite(v.sum)) {
            return "gauge min/max/sum " + Num(v.min) + "/" + Num(v.max) + "/" + Num(v.sum) +
                   " are not finite";
          } else if (v.min > v.max) {
            return "gauge min " + Num(v.min) + " is above max " + Num(v.max);
          }
        } else if constexpr (std::is_same_v<T, Rate>) {
          if (v.nonzero > v.total) {
            return "rate nonzero " + std::to_string(v.nonzero) + " is above total " +
                   std::to_string(v.total);
          }
        } else {
          return CheckHistogram(v);
        }
        return std::nullopt;
      },
      value);
}

Result<std::string> EncodeMetricsBatch(const MetricsBatch& batch, const Limits& limits) {
  if (auto why = CheckIdentity(batch.id, limits)) return Refuse(*why);
  if (batch.snapshot.size() > limits.max_series) {
    return Refuse(std::to_string(batch.snapshot.size()) + " series, more than " +
                  std::to_string(limits.max_series) + " (limit max_series)");
  }
  google::protobuf::Arena arena;
  auto* out = google::protobuf::Arena::CreateMessage<pb::MetricsBatch>(&arena);
  out->set_node_id(batch.id.node_id);
  out->set_region(batch.id.region);
  out->set_run_id(batch.id.run_id);
  out->set_seq(batch.id.seq);
  out->set_sent_unix_nanos(batch.id.sent_unix_nanos);
  out->set_final(batch.id.final);
  out->mutable_series()->Reserve(static_cast<int>(batch.snapshot.size()));
  size_t messages = 0, dense = 0;
  int i = 0;
  for (const auto& [key, value] : batch.snapshot) {
    if (auto why = CheckKey(key, limits)) return Refuse(Where(i, key.name) + *why);
    if (auto why = WhyNotEncodable(value)) return Refuse(Where(i, key.name) + *why);
    if (const auto* h = std::get_if<Histogram>(&value)) {
      uint32_t top = 0;
      bool any = false;
      h->ForEachBucket([&](uint32_t index, uint64_t) { top = index, any = true; });
      dense += any ? top + size_t{1} : 0;
    }
    pb::Series* s = out->add_series();
    s->set_name(key.name);
    for (const auto& [k, v] : key.labels) {
      pb::Label* label = s->add_labels();
      label->set_key(k);
      label->set_value(v);
    }
    EncodeValue(value, s);
    messages += 2 + key.labels.size();
    ++i;
  }
  if (dense > limits.max_histogram_buckets) {
    return Refuse("histograms needing " + std::to_string(dense) + " buckets, more than " +
                  std::to_string(limits.max_histogram_buckets) + " (limit max_histogram_buckets)");
  }
  if (messages > limits.max_messages) {
    return Refuse(std::to_string(messages) + " protobuf messages, more than " +
                  std::to_string(limits.max_messages) + " (limit max_messages)");
  }
  std::string bytes = out->SerializeAsString();
  if (bytes.size() > limits.max_bytes) {
    return Refuse("a batch of " + std::to_string(bytes.size()) + " bytes, more than " +
                  std::to_string(limits.max_bytes) + " (limit max_bytes)");
  }
  return bytes;
}

Result<MetricsBatch> DecodeMetricsBatch(std::string_view bytes, const Limits& limits) {
  google::protobuf::Arena arena;
  auto* in = google::protobuf::Arena::CreateMessage<pb::MetricsBatch>(&arena);
  if (auto r = ParseBounded(bytes, limits, in, pb::MetricsBatch::descriptor(), "the batch"); !r) {
    return tl::unexpected(r.error());
  }
  MetricsBatch out;
  out.id = BatchIdentity{.node_id = in->node_id(),
                         .region = in->region(),
                         .run_id = in->run_id(),
                         .seq = in->seq(),
                         .sent_unix_nanos = in->sent_unix_nanos(),
                         .final = in->final()};
  if (auto why = CheckIdentity(out.id, limits)) return Bad(Where(-1, {}) + *why);
  if (static_cast<size_t>(in->series_size()) > limits.max_series) {
    return Bad(std::to_string(in->series_size()) + " series, more than " +
               std::to_string(limits.max_series) + " (limit max_series)");
  }
  Decoder decoder{limits};
  const metrics::SeriesKey* previous = nullptr;
  for (int i = 0; i < in->series_size(); ++i) {
    const pb::Series& s = in->series(i);
    const std::string where = Where(i, s.name());
    if (static_cast<size_t>(s.labels_size()) > limits.max_labels_per_series) {
      return Bad(where + std::to_string(s.labels_size()) + " labels, more than " +
                 std::to_string(limits.max_labels_per_series) + " (limit max_labels_per_series)");
    }
    metrics::SeriesKey key;
    key.name = s.name();
    key.labels.reserve(static_cast<size_t>(s.labels_size()));
    for (const pb::Label& l : s.labels()) key.labels.emplace_back(l.key(), l.value());
    if (auto why = CheckKey(key, limits)) return Bad(where + *why);
    if (previous != nullptr && !(*previous < key)) {
      return Bad(where +
                 "series are not in strictly ascending (name, labels) order: a "
                 "duplicate or misplaced series");
    }
    auto value = decoder.Value(where, s);
    if (!value) return tl::unexpected(value.error());
    if (auto why = WhyNotEncodable(*value)) return Bad(where + *why);
    out.snapshot.Put(std::move(key), std::move(*value));
    previous = &std::prev(out.snapshot.end())->first;
  }
  return out;
}

Result<std::string> EncodeNodeCheckpoint(const NodeCheckpoint& checkpoint, const Limits& limits) {
  if (checkpoint.degraded_nanos < 0) return Refuse("a negative degraded time");
  auto batch = EncodeMetricsBatch(checkpoint.batch, limits);
  if (!batch) return batch;
  pb::NodeCheckpoint out;
  out.set_batch(std::move(*batch));
  out.set_degraded_nanos(checkpoint.degraded_nanos);
  return out.SerializeAsString();
}

Result<NodeCheckpoint> DecodeNodeCheckpoint(std::string_view bytes, const Limits& limits) {
  pb::NodeCheckpoint in;
  Limits outer = limits;
  outer.max_bytes = limits.max_bytes + 64;  // the batch plus two fields
  if (auto r = ParseBounded(bytes, outer, &in, pb::NodeCheckpoint::descriptor(), "the checkpoint");
      !r) {
    return tl::unexpected(r.error());
  }
  if (in.degraded_nanos() < 0) {
    return Bad("checkpoint degraded time " + std::to_string(in.degraded_nanos()) + " is negative");
  }
  auto batch = DecodeMetricsBatch(in.batch(), limits);
  if (!batch) return tl::unexpected(batch.error());
  return NodeCheckpoint{std::move(*batch), in.degraded_nanos()};
}

}  // namespace volley::wire::node
