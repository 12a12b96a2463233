#include "v1_body.h"

#include <type_traits>
#include <variant>
#include <vector>

#include "volley/wire/k6_v1.h"

namespace volley::output::cloud {

namespace k6 = wire::k6;

std::string EncodeV1Body(const k6::MetricSetData& data) {
  std::vector<k6::V1Sample> samples;
  for (const k6::SeriesSamples& s : data.series) {
    for (const k6::BucketValue& bv : s.values) {
      const int64_t time_us = bv.time_unix_seconds * 1'000'000;
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, metrics::Counter> ||
                          std::is_same_v<T, metrics::Gauge>) {
              k6::V1Point p;
              p.metric = s.metric;
              p.time_us = time_us;
              p.tags = s.labels;
              if constexpr (std::is_same_v<T, metrics::Counter>) {
                p.type = metrics::MetricType::kCounter;
                p.value = v.value;
              } else {
                p.type = metrics::MetricType::kGauge;
                p.value = v.last;
              }
              samples.emplace_back(std::move(p));
            } else {
              k6::V1AggregatedPoints a;
              a.metric = s.metric;
              a.time_us = time_us;
              a.tags = s.labels;
              k6::V1Aggregate agg;
              if constexpr (std::is_same_v<T, metrics::Rate>) {
                a.type = metrics::MetricType::kRate;
                a.count = v.total;
                agg.min = v.nonzero == v.total && v.total > 0 ? 1 : 0;
                agg.max = v.nonzero > 0 ? 1 : 0;
                agg.avg = v.ratio();
              } else {
                a.type = metrics::MetricType::kTrend;
                a.count = v.count();
                agg.min = v.min();
                agg.max = v.max();
                agg.avg = v.mean();
              }
              a.values.emplace_back(s.metric, agg);
              samples.emplace_back(std::move(a));
            }
          },
          bv.value);
    }
  }
  return k6::EncodeV1(samples);
}

}  // namespace volley::output::cloud
