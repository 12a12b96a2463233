// The threshold grammar: a metric selector (`name` or `name{k="v"}`) and its conditions
// (`p(95)<200ms`, `rate<0.01`), compiled against the known metric names.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>

#include "threshold_names.h"
#include "volley/common/problems.h"
#include "volley/common/strings.h"
#include "volley/metrics/names.h"
#include "volley/metrics/threshold.h"

namespace volley::metrics {
namespace {

using namespace threshold_detail;  // NOLINT: the name table of this module's thresholds

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
  const KnownMetric* known = FindKnownMetric(selector->name);
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
  Problems problems;
  if (conditions.empty()) problems.Add(out.metric, "no conditions (write e.g. p(95)<200ms)");
  for (const std::string& text : conditions) {
    Result<ThresholdCondition> c = ParseCondition(text, src.kind, selector->name);
    if (c) {
      out.conditions.push_back(std::move(*c));
      continue;
    }
    problems.AddAll(c.error());
  }
  if (!problems.empty()) return tl::unexpected(problems.ToError());
  return out;
}

}  // namespace volley::metrics
