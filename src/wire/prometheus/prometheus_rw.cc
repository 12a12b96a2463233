#include "volley/wire/prometheus_rw.h"

#include <algorithm>
#include <bit>

#include "remote.pb.h"
#include "volley/wire/k6_metrics.h"

namespace volley::wire::prometheus {

double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }
bool IsStaleNaN(double value) { return std::bit_cast<uint64_t>(value) == kStaleNaNBits; }

Result<Labels> CanonicalLabels(std::string_view name, const Labels& labels) {
  if (name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "remote write: a series needs a metric name");
  }
  Labels out;
  out.reserve(labels.size() + 1);
  out.emplace_back("__name__", std::string(name));
  for (const auto& [k, v] : labels) {
    if (k.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "remote write: " + std::string(name) + ": a label has an empty name");
    }
    if (v.empty()) {
      return MakeError(ErrorCode::kInvalidArgument, "remote write: " + std::string(name) +
                                                        ": label '" + k + "' has an empty value");
    }
    out.emplace_back(k, v);
  }
  // std::string compares with char_traits<char>, i.e. as unsigned bytes: byte order.
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].first == out[i - 1].first) {
      return MakeError(ErrorCode::kInvalidArgument, "remote write: " + std::string(name) +
                                                        ": label '" + out[i].first + "' twice");
    }
  }
  return out;
}

std::string EncodeWriteRequest(const std::vector<RwSeries>& series) {
  ::prometheus::WriteRequest req;
  for (const RwSeries& s : series) {
    ::prometheus::TimeSeries* ts = req.add_timeseries();
    for (const auto& [k, v] : s.labels) {
      ::prometheus::Label* l = ts->add_labels();
      l->set_name(k);
      l->set_value(v);
    }
    for (const RwSample& sample : s.samples) {
      ::prometheus::Sample* out = ts->add_samples();
      out->set_value(sample.value);
      out->set_timestamp(sample.timestamp_ms);
    }
  }
  return req.SerializeAsString();
}

Result<std::vector<RwSeries>> DecodeWriteRequest(std::string_view bytes) {
  ::prometheus::WriteRequest req;
  if (!req.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return MakeError(ErrorCode::kProtocol, "remote write: the body is not a WriteRequest");
  }
  std::vector<RwSeries> out;
  out.reserve(static_cast<size_t>(req.timeseries_size()));
  for (const ::prometheus::TimeSeries& ts : req.timeseries()) {
    RwSeries s;
    for (const ::prometheus::Label& l : ts.labels()) s.labels.emplace_back(l.name(), l.value());
    for (const ::prometheus::Sample& sample : ts.samples()) {
      s.samples.push_back({sample.timestamp(), sample.value()});
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string EncodeBody(const std::vector<RwSeries>& series) {
  return k6::SnappyCompress(EncodeWriteRequest(series));
}

Result<std::vector<RwSeries>> DecodeBody(std::string_view body, size_t max_uncompressed) {
  auto raw = k6::SnappyUncompress(body, max_uncompressed);
  if (!raw) return MakeError(ErrorCode::kProtocol, "remote write: " + raw.error().message);
  return DecodeWriteRequest(*raw);
}

}  // namespace volley::wire::prometheus
