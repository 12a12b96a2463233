#include "volley/output/summary.h"

#include <cmath>

#include "scenario_report.h"
#include "volley/metrics/names.h"

namespace volley::output {
namespace names = metrics::names;

LatencySummary Summarize(const metrics::Histogram& h) {
  LatencySummary s;
  s.count = h.count();
  if (s.count == 0) return s;
  s.min = h.min();
  s.mean = h.mean();
  s.p50 = h.Percentile(50);
  s.p90 = h.Percentile(90);
  s.p95 = h.Percentile(95);
  s.p99 = h.Percentile(99);
  s.p999 = h.Percentile(99.9);
  s.max = h.max();
  return s;
}

Summary Summarize(const metrics::Snapshot& snap, const RunFacts& facts) {
  Summary s;
  s.facts = facts;
  s.duration_s = static_cast<double>(facts.elapsed.count()) / 1e9;
  s.requests_total = static_cast<uint64_t>(std::llround(snap.SumCounter(names::kRequests)));
  s.rps = s.duration_s > 0 ? static_cast<double>(s.requests_total) / s.duration_s : 0;
  for (const char* c : names::kCategories) s.errors[c] = 0;
  for (const auto& [key, value] : snap) {
    const auto* counter = std::get_if<metrics::Counter>(&value);
    if (!counter) continue;
    const uint64_t n = CounterValue(*counter);
    if (key.name == names::kStatusCodes) {
      if (const std::string* code = FindLabel(key, names::kStatusLabel); code && n > 0) {
        s.status_codes[*code] += n;
      }
    } else if (key.name == names::kErrors) {
      if (const std::string* category = FindLabel(key, names::kCategoryLabel)) {
        s.errors[*category] += n;
        s.errors_total += n;
      }
    }
  }
  s.dropped_iterations =
      static_cast<uint64_t>(std::llround(snap.SumCounter(names::kDroppedIterations)));
  s.stale_retries = static_cast<uint64_t>(std::llround(snap.SumCounter(names::kStaleRetries)));
  s.data_sent = static_cast<uint64_t>(std::llround(snap.SumCounter(names::kDataSent)));
  s.data_received = static_cast<uint64_t>(std::llround(snap.SumCounter(names::kDataReceived)));
  s.latency = Summarize(snap.MergedTrend(names::kDuration));
  if (facts.open_model) s.from_intended = Summarize(snap.MergedTrend(names::kIntendedLatency));
  const std::pair<const char*, const char*> phases[] = {{"blocked", names::kBlocked},
                                                        {"connecting", names::kConnecting},
                                                        {"tls_handshaking", names::kTlsHandshaking},
                                                        {"sending", names::kSending},
                                                        {"waiting", names::kWaiting},
                                                        {"receiving", names::kReceiving}};
  for (const auto& [label, name] : phases) {
    s.phases.emplace_back(label, Summarize(snap.MergedTrend(name)));
  }
  s.scenarios = SummarizeScenarios(snap, s.duration_s, facts.plan_order);
  return s;
}

nlohmann::json LatencyJson(const LatencySummary& l) {
  auto ms = [](double seconds) { return std::round(seconds * 1e6) / 1e3; };  // µs precision
  return {{"count", l.count}, {"min", ms(l.min)},   {"mean", ms(l.mean)},
          {"p50", ms(l.p50)}, {"p90", ms(l.p90)},   {"p95", ms(l.p95)},
          {"p99", ms(l.p99)}, {"p999", ms(l.p999)}, {"max", ms(l.max)}};
}

nlohmann::json ToJson(const Summary& s) {
  nlohmann::json j;
  j["requests_total"] = s.requests_total;
  j["rps"] = s.rps;
  j["duration_s"] = s.duration_s;
  j["status_codes"] = s.status_codes;
  j["errors"] = s.errors;
  j["errors_total"] = s.errors_total;
  j["dropped_iterations"] = s.dropped_iterations;
  j["stale_connection_retries"] = s.stale_retries;
  j["latency_ms"] = LatencyJson(s.latency);
  if (s.from_intended) j["latency_from_intended_ms"] = LatencyJson(*s.from_intended);
  nlohmann::json phases = nlohmann::json::object();
  for (const auto& [name, l] : s.phases) phases[name] = LatencyJson(l);
  j["phases_ms"] = phases;
  j["data_sent_bytes"] = s.data_sent;
  j["data_received_bytes"] = s.data_received;
  j["interrupted"] = s.facts.interrupted;
  j["abandoned_in_flight"] = s.facts.abandoned;
  j["threads"] = s.facts.threads;
  j["connections"] = s.facts.connections;
  j["target"] = s.facts.target;
  j["load_model"] = s.facts.load_model;
  j["first_errors"] = s.facts.first_errors;
  j["scenarios"] = ScenariosJson(s.scenarios);
  j["thresholds"] = ThresholdsJson(s.thresholds);
  j["thresholds_failed"] = s.thresholds_failed();
  return j;
}

}  // namespace volley::output
