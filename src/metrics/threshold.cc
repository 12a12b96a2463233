#include "volley/metrics/threshold.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <variant>

#include "volley/common/strings.h"
#include "volley/metrics/names.h"

namespace volley::metrics {
namespace {

using Agg = ThresholdAggregation;
using Kind = ThresholdSource::Kind;

// A metric name a threshold may use.
struct KnownMetric {
  std::string_view name;  // as the user writes it
  Kind kind;
  const char* series;                     // volley's series name (numerator of a ratio)
  bool k6 = false;                        // a k6 name: its `status` label means status_code
  const char* denominator = nullptr;      // kRatio
  const char* numerator_label = nullptr;  // kRatio: key=value the numerator adds
  const char* numerator_value = nullptr;
};

constexpr KnownMetric kKnown[] = {
    // volley's own names (names.h)
    {names::kRequests, Kind::kCounter, names::kRequests},
    {names::kStatusCodes, Kind::kCounter, names::kStatusCodes},
    {names::kErrors, Kind::kCounter, names::kErrors},
    {names::kDuration, Kind::kTrend, names::kDuration},
    {names::kBlocked, Kind::kTrend, names::kBlocked},
    {names::kConnecting, Kind::kTrend, names::kConnecting},
    {names::kTlsHandshaking, Kind::kTrend, names::kTlsHandshaking},
    {names::kSending, Kind::kTrend, names::kSending},
    {names::kWaiting, Kind::kTrend, names::kWaiting},
    {names::kReceiving, Kind::kTrend, names::kReceiving},
    {names::kIntendedLatency, Kind::kTrend, names::kIntendedLatency},
    {names::kDataSent, Kind::kCounter, names::kDataSent},
    {names::kDataReceived, Kind::kCounter, names::kDataReceived},
    {names::kDroppedIterations, Kind::kCounter, names::kDroppedIterations},
    {names::kConcurrentRequests, Kind::kGauge, names::kConcurrentRequests},
    {names::kScenarioRequests, Kind::kCounter, names::kScenarioRequests},
    {names::kScenarioExecutions, Kind::kCounter, names::kScenarioExecutions},
    {names::kScenarioDuration, Kind::kTrend, names::kScenarioDuration},
    {names::kStepsTotal, Kind::kCounter, names::kStepsTotal},
    {names::kStepDuration, Kind::kTrend, names::kStepDuration},
    {names::kStepStatusCodes, Kind::kCounter, names::kStepStatusCodes},
    {names::kAssertions, Kind::kCounter, names::kAssertions},
    {names::kDataExhausted, Kind::kCounter, names::kDataExhausted},
    // k6's names
    {"http_req_duration", Kind::kTrend, names::kDuration, true},
    {"http_req_blocked", Kind::kTrend, names::kBlocked, true},
    {"http_req_connecting", Kind::kTrend, names::kConnecting, true},
    {"http_req_tls_handshaking", Kind::kTrend, names::kTlsHandshaking, true},
    {"http_req_sending", Kind::kTrend, names::kSending, true},
    {"http_req_waiting", Kind::kTrend, names::kWaiting, true},
    {"http_req_receiving", Kind::kTrend, names::kReceiving, true},
    {"http_reqs", Kind::kCounter, names::kRequests, true},
    {"http_req_failed", Kind::kRatio, names::kErrors, true, names::kRequests},
    {"iterations", Kind::kCounter, names::kScenarioExecutions},
    {"iteration_duration", Kind::kTrend, names::kScenarioDuration},
    {"dropped_iterations", Kind::kCounter, names::kDroppedIterations},
    {"data_sent", Kind::kCounter, names::kDataSent},
    {"data_received", Kind::kCounter, names::kDataReceived},
    {"checks", Kind::kRatio, names::kAssertions, false, names::kAssertions, "result", "passed"},
};

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kTrend:
      return "trend";
    case Kind::kCounter:
      return "counter";
    case Kind::kGauge:
      return "gauge";
    case Kind::kRatio:
      return "rate";
  }
  return "?";
}

const char* ValidAggregations(Kind kind) {
  switch (kind) {
    case Kind::kTrend:
      return "p(N), avg, min, max, med or count";
    case Kind::kCounter:
      return "count or rate (per second)";
    case Kind::kGauge:
      return "value, min or max";
    case Kind::kRatio:
      return "rate";
  }
  return "";
}

bool Valid(Kind kind, Agg agg) {
  switch (kind) {
    case Kind::kTrend:
      return agg != Agg::kRate && agg != Agg::kValue;
    case Kind::kCounter:
      return agg == Agg::kCount || agg == Agg::kRate;
    case Kind::kGauge:
      return agg == Agg::kValue || agg == Agg::kMin || agg == Agg::kMax;
    case Kind::kRatio:
      return agg == Agg::kRate;
  }
  return false;
}

// Durations are the trend aggregations other than count (every trend is in seconds).
bool IsDuration(Kind kind, Agg agg) { return kind == Kind::kTrend && agg != Agg::kCount; }

std::string UnknownMetric(std::string_view name) {
  std::string hint;
  size_t best = 4;
  for (const KnownMetric& k : kKnown) {
    // A namespace prefix (volley_request_duration_seconds) is the likeliest slip.
    if (name.size() > k.name.size() + 1 && name.ends_with(k.name) &&
        name[name.size() - k.name.size() - 1] == '_') {
      return std::string(name) +
             ": unknown metric (write it without the namespace prefix: " + std::string(k.name) +
             ")";
    }
    if (name.size() > 64) continue;  // bounds the edit-distance work on absurd input
    const size_t d = EditDistance(name, k.name);
    if (d < best) {
      best = d;
      hint = " (did you mean " + std::string(k.name) + "?)";
    }
  }
  if (hint.empty()) {
    hint =
        " (use a k6 name such as http_req_duration, http_req_failed, http_reqs, checks, "
        "iterations, or a volley metric such as request_duration_seconds)";
  }
  return std::string(name) + ": unknown metric" + hint;
}

bool IsNameChar(char c, bool first) {
  const auto u = static_cast<unsigned char>(c);
  return std::isalpha(u) || c == '_' || (!first && std::isdigit(u));
}

void SkipSpaces(std::string_view s, size_t& i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
}

struct Selector {
  std::string name;
  Labels labels;
};

// `name` or `name{k="v",k2:v2}`; the message of a failure does not name the selector.
std::optional<Selector> ParseSelector(std::string_view s, std::string& problem) {
  Selector out;
  size_t i = 0;
  while (i < s.size() && IsNameChar(s[i], i == 0)) ++i;
  out.name = std::string(s.substr(0, i));
  if (out.name.empty()) {
    problem =
        "expected a metric name, e.g. http_req_duration or "
        "request_duration_seconds{scenario=\"Browse\"}";
    return std::nullopt;
  }
  SkipSpaces(s, i);
  if (i == s.size()) return out;
  if (s[i] != '{') {
    problem = "unexpected '" + std::string(1, s[i]) + "' after the metric name (labels go in {})";
    return std::nullopt;
  }
  ++i;
  while (true) {
    SkipSpaces(s, i);
    if (i == s.size()) break;
    if (s[i] == '}') {
      ++i;
      SkipSpaces(s, i);
      if (i != s.size()) {
        problem = "unexpected text after '}': " + std::string(s.substr(i));
        return std::nullopt;
      }
      out.labels = NormalizeLabels(std::move(out.labels));
      return out;
    }
    const size_t key_start = i;
    while (i < s.size() && IsNameChar(s[i], i == key_start)) ++i;
    const std::string key(s.substr(key_start, i - key_start));
    if (key.empty()) {
      problem = "expected a label name at '" + std::string(s.substr(i)) + "'";
      return std::nullopt;
    }
    SkipSpaces(s, i);
    if (i == s.size() || (s[i] != '=' && s[i] != ':')) {
      problem = "expected '=' or ':' after label " + key;
      return std::nullopt;
    }
    ++i;
    SkipSpaces(s, i);
    std::string value;
    if (i < s.size() && s[i] == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          ++i;
          value += s[i] == 'n' ? '\n' : s[i];
        } else {
          value += s[i];
        }
      }
      if (i == s.size()) {
        problem = "the quoted value of label " + key + " has no closing '\"'";
        return std::nullopt;
      }
      ++i;
    } else {
      const size_t start = i;
      while (i < s.size() && s[i] != ',' && s[i] != '}') ++i;
      value = std::string(Trim(s.substr(start, i - start)));
      if (value.empty()) {
        problem = "label " + key + " has no value";
        return std::nullopt;
      }
    }
    for (const auto& [k, v] : out.labels) {
      if (k == key) {
        problem = "label " + key + " is given twice";
        return std::nullopt;
      }
    }
    out.labels.emplace_back(key, std::move(value));
    SkipSpaces(s, i);
    if (i < s.size() && s[i] == ',') {
      ++i;
    } else if (i < s.size() && s[i] != '}') {
      problem = "expected ',' or '}' after the value of label " + key;
      return std::nullopt;
    }
  }
  problem = "missing '}' after the labels";
  return std::nullopt;
}

// Parses a finite number at the start of `s`; advances `i` past it.
std::optional<double> ParseNumber(std::string_view s, size_t& i) {
  size_t start = i;
  if (start + 1 < s.size() && s[start] == '+' && s[start + 1] != '-') ++start;
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data() + start, s.data() + s.size(), v);
  if (ec != std::errc() || !std::isfinite(v)) return std::nullopt;
  i = static_cast<size_t>(end - s.data());
  return v;
}

std::optional<ThresholdOperator> ParseOperator(std::string_view s, size_t& i) {
  using Op = ThresholdOperator;
  static constexpr std::pair<std::string_view, Op> kOps[] = {
      {"===", Op::kEqual},       {"==", Op::kEqual}, {"!=", Op::kNotEqual}, {"<=", Op::kLessEqual},
      {">=", Op::kGreaterEqual}, {"<", Op::kLess},   {">", Op::kGreater}};
  for (const auto& [text, op] : kOps) {
    if (s.substr(i).starts_with(text)) {
      i += text.size();
      return op;
    }
  }
  return std::nullopt;
}

// The aggregation at the start of `s`; `problem` says what is wrong when it fails.
std::optional<Agg> ParseAggregation(std::string_view s, size_t& i, double& percentile,
                                    std::string& problem) {
  while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
  const std::string word = ToLower(s.substr(0, i));
  static constexpr std::pair<std::string_view, Agg> kWords[] = {
      {"avg", Agg::kAvg},     {"min", Agg::kMin},   {"max", Agg::kMax},    {"med", Agg::kMed},
      {"count", Agg::kCount}, {"rate", Agg::kRate}, {"value", Agg::kValue}};
  for (const auto& [text, agg] : kWords) {
    if (word == text) return agg;
  }
  if (word == "p") {
    SkipSpaces(s, i);
    if (i < s.size() && s[i] == '(') {
      ++i;
      SkipSpaces(s, i);
      const std::optional<double> n = ParseNumber(s, i);
      SkipSpaces(s, i);
      if (!n || i == s.size() || s[i] != ')') {
        problem = "write a percentile as p(N), e.g. p(95) or p(99.9)";
        return std::nullopt;
      }
      ++i;
      if (*n < 0 || *n > 100) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "percentile %g is outside [0, 100]", *n);
        problem = buf;
        return std::nullopt;
      }
      percentile = *n;
      return Agg::kPercentile;
    }
    size_t j = i;
    if (ParseNumber(s, j)) {
      problem = "write a percentile as p(" + std::string(s.substr(i, j - i)) + ")";
      return std::nullopt;
    }
  }
  problem = word.empty() ? "expected an aggregation first, e.g. p(95), avg, count or rate"
                         : "unknown aggregation '" + std::string(s.substr(0, i)) +
                               "' (use p(N), avg, min, max, med, count, rate or value)";
  return std::nullopt;
}

// One condition against a metric of `kind`; `display` names the metric in messages.
Result<ThresholdCondition> ParseCondition(std::string_view text, Kind kind,
                                          std::string_view display) {
  const std::string_view s = Trim(text);
  ThresholdCondition c;
  c.text = std::string(s);
  auto fail = [&](const std::string& what) {
    return MakeError(ErrorCode::kInvalidArgument,
                     (s.empty() ? std::string("(empty condition)") : c.text) + ": " + what);
  };
  if (s.empty()) return fail("write a condition such as p(95)<200ms");
  size_t i = 0;
  std::string problem;
  const std::optional<Agg> agg = ParseAggregation(s, i, c.percentile, problem);
  if (!agg) return fail(problem);
  c.aggregation = *agg;
  const std::string agg_text(Trim(s.substr(0, i)));
  if (!Valid(kind, c.aggregation)) {
    return fail("'" + agg_text + "' does not apply to " + std::string(display) + " (a " +
                KindName(kind) + "); use " + ValidAggregations(kind));
  }
  SkipSpaces(s, i);
  const std::optional<ThresholdOperator> op = ParseOperator(s, i);
  if (!op) return fail("expected an operator (<, <=, >, >=, ==, !=) after '" + agg_text + "'");
  c.op = *op;
  SkipSpaces(s, i);
  const size_t value_start = i;
  const std::optional<double> value = ParseNumber(s, i);
  if (!value) {
    return fail("expected a number after the operator" +
                (value_start < s.size() ? ", got '" + std::string(s.substr(value_start)) + "'"
                                        : std::string()));
  }
  const std::string unit(Trim(s.substr(i)));
  if (!IsDuration(kind, c.aggregation)) {
    if (!unit.empty()) return fail("'" + agg_text + "' takes a plain number; drop '" + unit + "'");
    c.bound = *value;
    return c;
  }
  // Durations are kept in seconds. Dividing by an exact power of ten gives the double
  // nearest the decimal value (200ms -> 0.2).
  struct Unit {
    std::string_view name;
    double factor;
    bool divide;  // seconds = value / factor, else value * factor
  };
  static constexpr Unit kUnits[] = {{"us", 1e6, true}, {"µs", 1e6, true}, {"ms", 1e3, true},
                                    {"s", 1, true},    {"m", 60, false},  {"h", 3600, false}};
  std::optional<Unit> found = unit.empty() ? std::optional<Unit>(kUnits[2]) : std::nullopt;
  for (const Unit& u : kUnits) {
    if (unit == u.name) found = u;
  }
  if (!found) {
    return fail("unknown unit '" + unit + "' (use us, ms, s, m or h, or a bare number of " +
                "milliseconds)");
  }
  if (*value < 0) return fail("a duration cannot be negative");
  c.bound = found->divide ? *value / found->factor : *value * found->factor;
  if (!std::isfinite(c.bound)) return fail("the duration is too large");
  return c;
}

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

Result<CompiledThreshold> CompileThreshold(std::string_view metric,
                                           const std::vector<std::string>& conditions) {
  CompiledThreshold out;
  const std::string_view selector_text = Trim(metric);
  out.metric = std::string(selector_text);
  std::string problem;
  const std::optional<Selector> selector = ParseSelector(selector_text, problem);
  if (!selector) {
    return MakeError(ErrorCode::kInvalidArgument,
                     (selector_text.empty() ? "(empty metric)" : out.metric) + ": " + problem);
  }
  const KnownMetric* known = nullptr;
  for (const KnownMetric& k : kKnown) {
    if (k.name == selector->name) known = &k;
  }
  if (known == nullptr)
    return MakeError(ErrorCode::kInvalidArgument, UnknownMetric(selector->name));
  ThresholdSource& src = out.source;
  src.kind = known->kind;
  src.name = known->series;
  src.filter = selector->labels;
  if (known->k6) {
    bool status = false;
    for (auto& [key, value] : src.filter) {
      if (key == "status") {
        key = names::kStatusLabel;
        status = true;
      }
    }
    src.filter = NormalizeLabels(std::move(src.filter));
    // k6's http_reqs{status:200} counts responses by status: volley keeps those apart.
    if (status && selector->name == "http_reqs") src.name = names::kStatusCodes;
  }
  // The request-level series carry no scenario or step label; per scenario and step the
  // same requests are counted and timed by the scenario series, so a filter on those
  // labels reads them instead (exactly the same samples).
  const bool per_scenario = std::any_of(src.filter.begin(), src.filter.end(), [](const auto& l) {
    return l.first == names::kScenarioLabel || l.first == names::kStepLabel;
  });
  if (per_scenario && src.name == names::kDuration) src.name = names::kStepDuration;
  if (per_scenario && src.name == names::kRequests && src.kind == Kind::kCounter) {
    const bool by_step = std::any_of(src.filter.begin(), src.filter.end(),
                                     [](const auto& l) { return l.first == names::kStepLabel; });
    src.name = by_step ? names::kStepStatusCodes : names::kScenarioRequests;
  }
  if (known->denominator != nullptr) src.denominator = known->denominator;
  if (known->numerator_label != nullptr) {
    src.numerator_labels = {{known->numerator_label, known->numerator_value}};
  }
  std::string problems;
  if (conditions.empty()) problems = out.metric + ": no conditions (write e.g. p(95)<200ms)";
  for (const std::string& text : conditions) {
    Result<ThresholdCondition> c = ParseCondition(text, src.kind, selector->name);
    if (c) {
      out.conditions.push_back(std::move(*c));
      continue;
    }
    if (!problems.empty()) problems += '\n';
    problems += c.error().message;
  }
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems);
  return out;
}

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
