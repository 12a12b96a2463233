#include "scenario_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "volley/metrics/names.h"
#include "volley/output/progress.h"

namespace volley::output {
namespace names = metrics::names;
namespace {

struct StepAcc {
  StepSummary s;
  std::optional<metrics::Histogram> latency;
};

struct ScenarioAcc {
  ScenarioSummary s;
  std::optional<metrics::Histogram> iteration, requests;
  std::map<std::string, StepAcc> steps;
};

void MergeInto(std::optional<metrics::Histogram>& acc, const metrics::Histogram& h) {
  if (!acc) {
    acc = h;
  } else {
    acc->Merge(h);  // another resolution is skipped, as Snapshot::MergedTrend does
  }
}

LatencySummary Latency(const std::optional<metrics::Histogram>& h) {
  return h ? Summarize(*h) : LatencySummary{};
}

double PerSecond(uint64_t n, double duration_s) {
  return duration_s > 0 ? static_cast<double>(n) / duration_s : 0;
}

// Folds one step series into its step.
void AddStepSeries(StepAcc& st, const metrics::SeriesKey& key, const metrics::MetricValue& value) {
  if (const auto* h = std::get_if<metrics::Histogram>(&value)) {
    if (key.name == names::kStepDuration) MergeInto(st.latency, *h);
    return;
  }
  const auto* counter = std::get_if<metrics::Counter>(&value);
  if (counter == nullptr) return;
  const uint64_t n = CounterValue(*counter);
  const std::string* status = FindLabel(key, "status");
  if (key.name == names::kStepsTotal) {
    st.s.count += n;
    if (status && *status == "failure") st.s.failed += n;
    const std::string* cache = FindLabel(key, names::kCacheLabel);
    if (cache && *cache == "hit") st.s.cache_hits += n;
  } else if (key.name == names::kStepStatusCodes) {
    const std::string* code = FindLabel(key, names::kStatusLabel);
    if (code && n > 0) st.s.status_codes[*code] += n;
  } else if (key.name == names::kAssertions) {
    const std::string* result = FindLabel(key, "result");
    if (result && *result == "passed") st.s.assertions_passed += n;
    if (result && *result == "failed") st.s.assertions_failed += n;
  }
}

// Folds one series carrying a `scenario` label into its scenario.
void AddSeries(ScenarioAcc& a, const metrics::SeriesKey& key, const metrics::MetricValue& value) {
  if (const std::string* step = FindLabel(key, names::kStepLabel)) {
    AddStepSeries(a.steps[*step], key, value);
    return;
  }
  if (const auto* h = std::get_if<metrics::Histogram>(&value)) {
    if (key.name == names::kScenarioDuration) MergeInto(a.iteration, *h);
    if (key.name == names::kDuration) MergeInto(a.requests, *h);
    return;
  }
  const auto* counter = std::get_if<metrics::Counter>(&value);
  if (counter == nullptr) return;
  const uint64_t n = CounterValue(*counter);
  if (key.name == names::kScenarioRequests) {
    a.s.requests += n;
    if (const std::string* host = FindLabel(key, names::kHostLabel))
      a.s.requests_by_host[*host] += n;
  } else if (key.name == names::kScenarioExecutions) {
    const std::string* status = FindLabel(key, "status");
    (status && *status == "failure" ? a.s.iterations_failed : a.s.iterations_ok) += n;
  } else if (key.name == names::kDataExhausted) {
    a.s.data_exhausted += n;
  }
}

bool IsScenarioSeries(const std::string& name) {
  return name.starts_with("scenario_") || name == names::kDuration;
}

ScenarioSummary Finish(ScenarioAcc& a, const std::vector<std::string>& step_order,
                       double duration_s) {
  ScenarioSummary s = std::move(a.s);
  s.rps = PerSecond(s.requests, duration_s);
  s.iterations_per_s = PerSecond(s.iterations(), duration_s);
  s.iteration = Latency(a.iteration);
  s.request_latency = Latency(a.requests);
  auto add = [&](const std::string& name, StepAcc& st) {
    StepSummary step = std::move(st.s);
    step.name = name;
    step.rps = PerSecond(step.count, duration_s);
    step.latency = Latency(st.latency);
    s.errors += step.failed;
    s.steps.push_back(std::move(step));
  };
  for (const std::string& name : step_order) {
    auto it = a.steps.find(name);
    StepAcc none;
    add(name, it == a.steps.end() ? none : it->second);
    if (it != a.steps.end()) a.steps.erase(it);
  }
  for (auto& [name, st] : a.steps) add(name, st);
  return s;
}

size_t Chars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// `s` left-aligned in `width` columns; a longer one is cut at a character boundary and
// ends in "…".
std::string Fit(const std::string& s, size_t width) {
  if (Chars(s) <= width) return s + std::string(width - Chars(s), ' ');
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80 && ++chars == width) break;
    out += s[i];
  }
  return out + "…";
}

// `s` left-aligned in at least `width` columns; a longer one is kept whole.
std::string PadRight(const std::string& s, size_t width) {
  const size_t n = Chars(s);
  return n >= width ? s : s + std::string(width - n, ' ');
}

std::string Ms(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", seconds * 1e3);
  return buf;
}

std::string Fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

constexpr size_t kCol = 10;

void TableRow(std::string& out, const std::string& name, size_t width, uint64_t count, double rps,
              const std::string& errors, const LatencySummary& l) {
  out += "    " + Fit(name, width) + PadLeft(FormatCount(count), kCol) +
         PadLeft(Fixed1(rps), kCol) + PadLeft(errors, kCol);
  if (l.count == 0) {
    out += PadLeft("-", kCol) + "\n";
    return;
  }
  for (double v : {l.p50, l.p90, l.p95, l.p99, l.p999, l.max}) out += PadLeft(Ms(v), kCol);
  out += "\n";
}

// "200: 400, 500: 2"
std::string Codes(const std::map<std::string, uint64_t>& codes) {
  std::string out;
  for (const auto& [code, n] : codes) {
    if (!out.empty()) out += ", ";
    out += code + ": " + FormatCount(n);
  }
  return out;
}

}  // namespace

const std::string* FindLabel(const metrics::SeriesKey& key, std::string_view name) {
  for (const auto& [k, v] : key.labels) {
    if (k == name) return &v;
  }
  return nullptr;
}

uint64_t CounterValue(const metrics::Counter& c) {
  return c.value > 0 ? static_cast<uint64_t>(std::llround(c.value)) : 0;
}

std::vector<ScenarioSummary> SummarizeScenarios(const metrics::Snapshot& snap, double duration_s,
                                                const PlanOrder& plan_order) {
  std::map<std::string, ScenarioAcc> acc;
  for (const auto& [key, value] : snap) {
    if (!IsScenarioSeries(key.name)) continue;
    const std::string* scenario = FindLabel(key, names::kScenarioLabel);
    if (scenario == nullptr) continue;
    ScenarioAcc& a = acc[*scenario];
    a.s.name = *scenario;
    AddSeries(a, key, value);
  }
  std::vector<ScenarioSummary> out;
  if (acc.empty()) return out;  // single-request mode: no scenario tables at all
  // The plan's scenarios and steps come first, in its order, even those that never ran.
  for (const auto& [name, steps] : plan_order) {
    auto it = acc.find(name);
    ScenarioAcc none;
    none.s.name = name;
    out.push_back(Finish(it == acc.end() ? none : it->second, steps, duration_s));
    if (it != acc.end()) acc.erase(it);
  }
  for (auto& [name, a] : acc) out.push_back(Finish(a, {}, duration_s));
  return out;
}

void AppendScenarioReport(std::string& out, const std::vector<ScenarioSummary>& scenarios) {
  char buf[512];
  for (const ScenarioSummary& sc : scenarios) {
    std::snprintf(buf, sizeof buf,
                  "\n  scenario %s: %s requests (%.1f/s), %s iterations (%s ok, %s failed), "
                  "mean %s, %s failed steps\n",
                  sc.name.c_str(), FormatCount(sc.requests).c_str(), sc.rps,
                  FormatCount(sc.iterations()).c_str(), FormatCount(sc.iterations_ok).c_str(),
                  FormatCount(sc.iterations_failed).c_str(),
                  sc.iteration.count ? FormatLatency(sc.iteration.mean).c_str() : "-",
                  FormatCount(sc.errors).c_str());
    out += buf;
    if (!sc.requests_by_host.empty()) {
      out += "    requests by host:";
      std::string sep = " ";
      for (const auto& [host, n] : sc.requests_by_host) {
        out += sep + host + " " + FormatCount(n);
        sep = ", ";
      }
      out += "\n";
    }
    if (sc.data_exhausted > 0) {
      out += "    " + FormatCount(sc.data_exhausted) +
             " users stopped: the sequential data file ran out of rows\n";
    }
    size_t width = 12;
    for (const StepSummary& st : sc.steps) width = std::max(width, Chars(st.name) + 2);
    width = std::min<size_t>(width, 32);
    out += "    " + Fit("step", width);
    for (const char* h :
         {"count", "rps", "errors", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "p99.9 ms", "max ms"}) {
      out += PadLeft(h, kCol);
    }
    out += "\n";
    for (const StepSummary& st : sc.steps) {
      TableRow(out, st.name, width, st.count, st.rps, FormatCount(st.failed), st.latency);
    }
    TableRow(out, "(iteration)", width, sc.iterations(), sc.iterations_per_s,
             FormatCount(sc.iterations_failed), sc.iteration);
    if (sc.request_latency.count > 0) {
      TableRow(out, "(requests)", width, sc.requests, sc.rps, "-", sc.request_latency);
    }
    for (const StepSummary& st : sc.steps) {
      if (st.status_codes.empty() && st.assertions_passed + st.assertions_failed == 0 &&
          st.cache_hits == 0) {
        continue;
      }
      out += "    " + st.name + ":";
      std::string sep;
      if (!st.status_codes.empty()) {
        out += " status " + Codes(st.status_codes);
        sep = ";";
      }
      if (st.assertions_passed + st.assertions_failed > 0) {
        out += sep + " assertions " + FormatCount(st.assertions_passed) + " passed, " +
               FormatCount(st.assertions_failed) + " failed";
        sep = ";";
      }
      if (st.cache_hits > 0) out += sep + " cache hits " + FormatCount(st.cache_hits);
      out += "\n";
    }
  }
}

void AppendThresholdReport(std::string& out, const std::vector<metrics::ThresholdResult>& results) {
  if (results.empty()) return;
  size_t failed = 0, metric_w = 0, cond_w = 0;
  for (const auto& r : results) {
    failed += r.passed ? 0 : 1;
    metric_w = std::max(metric_w, Chars(r.metric));
    cond_w = std::max(cond_w, Chars(r.condition));
  }
  // Columns align up to these widths; a longer metric or condition is printed whole.
  metric_w = std::min<size_t>(metric_w, 48);
  cond_w = std::min<size_t>(cond_w, 32);
  char buf[128];
  if (failed == 0) {
    std::snprintf(buf, sizeof buf, "\n  thresholds: all %zu passed\n", results.size());
  } else {
    std::snprintf(buf, sizeof buf, "\n  thresholds: %zu of %zu FAILED\n", failed, results.size());
  }
  out += buf;
  for (const auto& r : results) {
    out += std::string("    ") + (r.passed ? "PASS  " : "FAIL  ") + PadRight(r.metric, metric_w) +
           "  " + PadRight(r.condition, cond_w) + "  " + r.observed_text + "\n";
  }
}

nlohmann::json ScenariosJson(const std::vector<ScenarioSummary>& scenarios) {
  nlohmann::json list = nlohmann::json::array();
  for (const ScenarioSummary& sc : scenarios) {
    nlohmann::json steps = nlohmann::json::array();
    for (const StepSummary& st : sc.steps) {
      steps.push_back(
          {{"name", st.name},
           {"count", st.count},
           {"rps", st.rps},
           {"errors", st.failed},
           {"cache_hits", st.cache_hits},
           {"assertions", {{"passed", st.assertions_passed}, {"failed", st.assertions_failed}}},
           {"status_codes", st.status_codes},
           {"latency_ms", LatencyJson(st.latency)}});
    }
    nlohmann::json j = {
        {"name", sc.name},
        {"requests", sc.requests},
        {"rps", sc.rps},
        {"errors", sc.errors},
        {"iterations", {{"success", sc.iterations_ok}, {"failure", sc.iterations_failed}}},
        {"iterations_per_s", sc.iterations_per_s},
        {"data_exhausted", sc.data_exhausted},
        {"iteration_ms", LatencyJson(sc.iteration)},
        {"steps", std::move(steps)}};
    if (sc.request_latency.count > 0) j["request_latency_ms"] = LatencyJson(sc.request_latency);
    if (!sc.requests_by_host.empty()) j["requests_by_host"] = sc.requests_by_host;
    list.push_back(std::move(j));
  }
  return list;
}

nlohmann::json ThresholdsJson(const std::vector<metrics::ThresholdResult>& results) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : results) {
    list.push_back({{"metric", r.metric},
                    {"condition", r.condition},
                    {"passed", r.passed},
                    {"no_data", r.no_data},
                    {"observed", r.observed},
                    {"observed_text", r.observed_text}});
  }
  return list;
}

}  // namespace volley::output
