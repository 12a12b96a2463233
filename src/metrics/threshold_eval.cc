// Threshold evaluation: the observed value of each condition on a cumulative snapshot,
// compared with its bound.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "threshold_names.h"
#include "volley/metrics/names.h"
#include "volley/metrics/threshold.h"

namespace volley::metrics {
namespace {

using namespace threshold_detail;  // NOLINT: the name table of this module's thresholds

bool Includes(const Labels& labels, const Labels& filter) {
  return std::all_of(filter.begin(), filter.end(), [&labels](const auto& want) {
    return std::find(labels.begin(), labels.end(), want) != labels.end();
  });
}

// Sum of the counters of `name` whose labels include `filter`.
double SumCounters(const Snapshot& snap, const std::string& name, const Labels& filter) {
  double sum = 0;
  snap.ForEachOfName(name, [&](const SeriesKey& key, const MetricValue& value) {
    const auto* counter = std::get_if<Counter>(&value);
    if (counter != nullptr && Includes(key.labels, filter)) sum += counter->value;
  });
  return sum;
}

std::string FormatSeconds(double v) {
  char buf[64];
  if (v < 1) {
    std::snprintf(buf, sizeof buf, "%.2fms", v * 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.2fs", v);
  }
  return buf;
}

// "p(99.9)", "avg", ...
std::string AggregationText(const ThresholdCondition& c) {
  static constexpr const char* kNames[] = {"p",   "avg",   "min",  "max",
                                           "med", "count", "rate", "value"};
  if (c.aggregation != Agg::kPercentile) return kNames[static_cast<size_t>(c.aggregation)];
  char buf[64];
  std::snprintf(buf, sizeof buf, "p(%g)", c.percentile);
  return buf;
}

// The figures a threshold's conditions are computed from.
struct Observed {
  Kind kind = Kind::kTrend;
  Histogram trend;
  bool any = false;        // kTrend, kGauge: some series matched
  double counter = 0;      // kCounter; kRatio numerator
  double denominator = 0;  // kRatio
  Gauge gauge;             // kGauge: `last` is the sum of the series' last values
};

Observed Gather(const ThresholdSource& src, const Snapshot& snap) {
  Observed o;
  o.kind = src.kind;
  switch (src.kind) {
    case Kind::kTrend:
      snap.ForEachOfName(src.name, [&](const SeriesKey& key, const MetricValue& value) {
        const auto* h = std::get_if<Histogram>(&value);
        if (h == nullptr || !Includes(key.labels, src.filter)) return;
        if (!o.any) {
          o.trend = *h;
          o.any = true;
        } else {
          o.trend.Merge(*h);  // another resolution is skipped, as Snapshot::MergedTrend does
        }
      });
      break;
    case Kind::kCounter:
      o.counter = SumCounters(snap, src.name, src.filter);
      break;
    case Kind::kRatio: {
      Labels numerator = src.filter;
      numerator.insert(numerator.end(), src.numerator_labels.begin(), src.numerator_labels.end());
      o.counter = SumCounters(snap, src.name, NormalizeLabels(std::move(numerator)));
      o.denominator = SumCounters(snap, src.denominator, src.filter);
      break;
    }
    case Kind::kGauge:
      snap.ForEachOfName(src.name, [&](const SeriesKey& key, const MetricValue& value) {
        const auto* g = std::get_if<Gauge>(&value);
        if (g == nullptr || !Includes(key.labels, src.filter)) return;
        o.any = true;
        o.gauge.last += g->last;
        o.gauge.min = std::min(o.gauge.min, g->min);
        o.gauge.max = std::max(o.gauge.max, g->max);
        o.gauge.count += g->count;
      });
      break;
  }
  return o;
}

// The observed value of one condition; nullopt when there is no data.
std::optional<double> Value(const Observed& o, const ThresholdCondition& c, double elapsed_s) {
  switch (o.kind) {
    case Kind::kTrend:
      if (c.aggregation == Agg::kCount) return static_cast<double>(o.trend.count());
      if (o.trend.count() == 0) return std::nullopt;
      switch (c.aggregation) {
        case Agg::kPercentile:
          return o.trend.Percentile(c.percentile);
        case Agg::kMed:
          return o.trend.Percentile(50);
        case Agg::kAvg:
          return o.trend.mean();
        case Agg::kMin:
          return o.trend.min();
        default:
          return o.trend.max();
      }
    case Kind::kCounter:
      if (c.aggregation == Agg::kCount) return o.counter;
      if (elapsed_s <= 0) return std::nullopt;
      return o.counter / elapsed_s;
    case Kind::kRatio:
      if (o.denominator <= 0) return std::nullopt;
      return o.counter / o.denominator;
    case Kind::kGauge:
      if (!o.any) return std::nullopt;
      // Without Set() calls in the run, min and max are the last value.
      if (c.aggregation == Agg::kMin) return o.gauge.count ? o.gauge.min : o.gauge.last;
      if (c.aggregation == Agg::kMax) return o.gauge.count ? o.gauge.max : o.gauge.last;
      return o.gauge.last;
  }
  return std::nullopt;
}

std::string ValueText(Kind kind, const ThresholdCondition& c, double v) {
  char buf[64];
  if (IsDuration(kind, c.aggregation)) return FormatSeconds(v);
  if (kind == Kind::kRatio) {
    std::snprintf(buf, sizeof buf, "%.2f%%", v * 100);
  } else if (kind == Kind::kCounter && c.aggregation == Agg::kRate) {
    std::snprintf(buf, sizeof buf, "%.2f/s", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.15g", v);
  }
  return buf;
}

// == and != allow a relative 1e-9, so that a value converted from units (51 x 1 ms is not
// the double nearest 0.051) still equals the bound written in the plan.
bool Compare(double observed, ThresholdOperator op, double bound) {
  const bool equal =
      std::fabs(observed - bound) <= 1e-9 * std::max(std::fabs(observed), std::fabs(bound));
  switch (op) {
    case ThresholdOperator::kLess:
      return observed < bound;
    case ThresholdOperator::kLessEqual:
      return observed <= bound;
    case ThresholdOperator::kGreater:
      return observed > bound;
    case ThresholdOperator::kGreaterEqual:
      return observed >= bound;
    case ThresholdOperator::kEqual:
      return equal;
    case ThresholdOperator::kNotEqual:
      return !equal;
  }
  return false;
}

}  // namespace

std::vector<ThresholdResult> Evaluate(const CompiledThreshold& threshold,
                                      const Snapshot& cumulative, Nanos elapsed) {
  const Observed observed = Gather(threshold.source, cumulative);
  const double elapsed_s = static_cast<double>(elapsed.count()) / 1e9;
  std::vector<ThresholdResult> results;
  results.reserve(threshold.conditions.size());
  for (const ThresholdCondition& c : threshold.conditions) {
    ThresholdResult r{.metric = threshold.metric, .condition = c.text};
    const std::optional<double> v = Value(observed, c, elapsed_s);
    if (!v) {
      r.no_data = true;
      r.observed_text = "no data";
    } else {
      r.observed = *v;
      r.passed = Compare(*v, c.op, c.bound);
      r.observed_text = AggregationText(c) + "=" + ValueText(threshold.source.kind, c, *v);
    }
    results.push_back(std::move(r));
  }
  return results;
}

bool AnyFailed(const std::vector<ThresholdResult>& results) {
  return std::any_of(results.begin(), results.end(),
                     [](const ThresholdResult& r) { return !r.passed; });
}

}  // namespace volley::metrics
