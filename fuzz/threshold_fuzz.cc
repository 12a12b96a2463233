// libFuzzer target for the threshold selector and condition parser
// (include/volley/metrics/threshold.h): the text of a plan's `thresholds:` section.
//
// Input: lines. The first is the metric selector, the others its conditions. A compiled
// threshold is evaluated over a small snapshot; the invariants of the results are checked,
// and each condition's own text must compile again to the same condition.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "volley/metrics/names.h"
#include "volley/metrics/threshold.h"

namespace {

using namespace volley::metrics;

Snapshot MakeSnapshot() {
  Snapshot s;
  Histogram h;
  for (uint64_t u = 1; u < 5000; u += 7) h.RecordUnits(u);
  s.Put(SeriesKey(names::kDuration, {{"scenario", "Browse"}}), h);
  s.Put(SeriesKey(names::kDuration, {{"scenario", "Buy"}}), Histogram(1e-3));
  s.Put(SeriesKey(names::kRequests), Counter{100});
  s.Put(SeriesKey(names::kErrors, {{"category", "server_error"}}), Counter{3});
  s.Put(SeriesKey(names::kAssertions, {{"result", "passed"}}), Counter{9});
  Gauge g;
  g.Set(4);
  s.Put(SeriesKey(names::kConcurrentRequests), g);
  return s;
}

bool SameCondition(const ThresholdCondition& a, const ThresholdCondition& b) {
  return a.text == b.text && a.aggregation == b.aggregation && a.op == b.op && a.bound == b.bound &&
         a.percentile == b.percentile;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  static const Snapshot snapshot = MakeSnapshot();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t eol = input.find('\n');
  const std::string_view metric = input.substr(0, eol);
  std::vector<std::string> conditions;
  for (size_t pos = eol; pos != std::string_view::npos && pos < input.size();) {
    const size_t next = input.find('\n', pos + 1);
    conditions.emplace_back(input.substr(
        pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1));
    pos = next;
  }
  const auto compiled = CompileThreshold(metric, conditions);
  if (!compiled) {
    FUZZ_CHECK(!compiled.error().message.empty());
    FUZZ_CHECK(compiled.error().code == volley::ErrorCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(compiled->conditions.size() == conditions.size());
  FUZZ_CHECK(!compiled->source.name.empty());
  for (const ThresholdCondition& c : compiled->conditions) {
    FUZZ_CHECK(std::isfinite(c.bound));
    FUZZ_CHECK(c.percentile >= 0 && c.percentile <= 100);
    // A condition's text, as kept, compiles to the same condition.
    const auto again = CompileThreshold(metric, {c.text});
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(SameCondition(again->conditions.at(0), c));
  }
  for (int64_t elapsed : {int64_t{0}, int64_t{3'000'000'000}}) {
    const auto results = Evaluate(*compiled, snapshot, volley::Nanos(elapsed));
    FUZZ_CHECK(results.size() == conditions.size());
    for (const ThresholdResult& r : results) {
      FUZZ_CHECK(!r.observed_text.empty());
      FUZZ_CHECK(std::isfinite(r.observed));
      if (r.no_data) FUZZ_CHECK(r.passed && r.observed == 0 && r.observed_text == "no data");
    }
  }
  return 0;
}
