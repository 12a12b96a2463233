#include "volley/metrics/series.h"

#include <algorithm>

namespace volley::metrics {

Labels NormalizeLabels(Labels labels) {
  std::stable_sort(labels.begin(), labels.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  // Keep the last of each run of equal keys: walk backwards, keep first seen.
  Labels out;
  out.reserve(labels.size());
  for (auto it = labels.rbegin(); it != labels.rend(); ++it) {
    if (out.empty() || out.back().first != it->first) out.push_back(std::move(*it));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

SeriesKey::SeriesKey(std::string name, Labels labels)
    : name(std::move(name)), labels(NormalizeLabels(std::move(labels))) {}

std::string SeriesKey::ToString() const {
  std::string out = name;
  if (labels.empty()) return out;
  out += '{';
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += labels[i].first;
    out += "=\"";
    for (char c : labels[i].second) {
      if (c == '\\' || c == '"') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  out += '}';
  return out;
}

const char* MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kRate:
      return "rate";
    case MetricType::kTrend:
      return "trend";
  }
  return "unknown";
}

}  // namespace volley::metrics
