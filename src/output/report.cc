#include <cstdio>

#include "scenario_report.h"
#include "volley/output/progress.h"
#include "volley/output/summary.h"

namespace volley::output {

std::string PadLeft(const std::string& s, size_t width) {
  size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
  return chars >= width ? s : std::string(width - chars, ' ') + s;
}

namespace {

void LatencyRow(std::string& out, const std::string& name, const LatencySummary& l) {
  char buf[32];
  snprintf(buf, sizeof buf, "  %-16s", name.c_str());
  out += buf;
  if (l.count == 0) {
    out += PadLeft("-", 10) + "\n";
    return;
  }
  for (double v : {l.min, l.mean, l.p50, l.p90, l.p95, l.p99, l.p999, l.max}) {
    out += PadLeft(FormatLatency(v), 10);
  }
  out += "\n";
}

// What to try, for the failures users most often meet first.
std::string Hint(const std::string& category, const std::string& why) {
  if (category == "tls_error" &&
      (why.find("certificate") != std::string::npos || why.find("verif") != std::string::npos)) {
    return " (trust its CA with --cacert FILE, or skip verification with -k)";
  }
  if (category == "timeout_error") return " (raise --timeout or --connect-timeout?)";
  return "";
}

double Pct(uint64_t part, uint64_t whole) {
  return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0;
}

}  // namespace

std::string FormatReport(const Summary& s) {
  std::string out;
  char buf[512];
  snprintf(buf, sizeof buf, "\nvolley report  %s\n  %s, %d connections on %d threads, %.2fs%s\n\n",
           s.facts.target.c_str(), s.facts.load_model.c_str(), s.facts.connections, s.facts.threads,
           s.duration_s, s.facts.interrupted ? " (interrupted)" : "");
  out += buf;
  snprintf(buf, sizeof buf, "  %-16s %s  (%.1f/s)\n", "requests",
           FormatCount(s.requests_total).c_str(), s.rps);
  out += buf;
  snprintf(buf, sizeof buf, "  %-16s %s (%.2f%%)\n", "errors", FormatCount(s.errors_total).c_str(),
           Pct(s.errors_total, s.requests_total));
  out += buf;
  snprintf(buf, sizeof buf, "  %-16s %s\n", "dropped iter.",
           FormatCount(s.dropped_iterations).c_str());
  out += buf;
  snprintf(buf, sizeof buf, "  %-16s sent %s, received %s\n", "data",
           FormatBytes(s.data_sent).c_str(), FormatBytes(s.data_received).c_str());
  out += buf;
  if (s.stale_retries > 0) {
    snprintf(buf, sizeof buf,
             "  %-16s %s sent again: the server closed a reused keep-alive connection first\n",
             "stale retries", FormatCount(s.stale_retries).c_str());
    out += buf;
  }
  if (s.facts.abandoned > 0) {
    snprintf(buf, sizeof buf, "  %-16s %s still in flight when the grace period ended\n",
             "abandoned", FormatCount(s.facts.abandoned).c_str());
    out += buf;
  }
  snprintf(buf, sizeof buf, "\n  %-16s%10s%10s%10s%10s%10s%10s%10s%10s\n", "latency", "min", "mean",
           "p50", "p90", "p95", "p99", "p99.9", "max");
  out += buf;
  LatencyRow(out, "duration", s.latency);
  if (s.from_intended) LatencyRow(out, "from intended", *s.from_intended);
  for (const auto& [name, l] : s.phases) {
    if (l.count > 0 && l.max > 0) LatencyRow(out, "  " + name, l);
  }
  out += "\n  status codes    ";
  if (s.status_codes.empty()) out += " none";
  for (const auto& [code, n] : s.status_codes) {
    snprintf(buf, sizeof buf, " %s: %s (%.1f%%)", code.c_str(), FormatCount(n).c_str(),
             Pct(n, s.requests_total));
    out += buf;
  }
  out += "\n  error categories";
  if (s.errors_total == 0) out += " none";
  for (const auto& [name, n] : s.errors) {
    if (n == 0) continue;
    snprintf(buf, sizeof buf, " %s: %s", name.c_str(), FormatCount(n).c_str());
    out += buf;
  }
  out += "\n";
  for (const auto& [category, why] : s.facts.first_errors) {
    out += "  first " + category + ": " + why + Hint(category, why) + "\n";
  }
  AppendScenarioReport(out, s.scenarios);
  AppendThresholdReport(out, s.thresholds);
  return out;
}

}  // namespace volley::output
