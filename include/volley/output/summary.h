// The end-of-test summary: the figures of the final report and of --summary-export, read
// from the cumulative Snapshot. One model, two formatters (text and JSON).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "volley/common/clock.h"
#include "volley/metrics/histogram.h"
#include "volley/metrics/snapshot.h"

namespace volley::output {

// Facts about the run that are not measurements.
struct RunFacts {
  Nanos elapsed{0};
  bool interrupted = false;
  uint64_t abandoned = 0;
  int threads = 0;
  int connections = 0;
  bool open_model = false;
  std::string target;      // URL, for the report header
  std::string load_model;  // human description
  // Per error category that occurred, what its first failure was (engine::RunInfo).
  std::map<std::string, std::string> first_errors;
};

// Percentiles of one latency histogram, in seconds. Percentiles come from the merged
// fine histogram (never averaged), within its 1/128 relative bucket error.
struct LatencySummary {
  uint64_t count = 0;
  double min = 0, mean = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, p999 = 0, max = 0;
};
LatencySummary Summarize(const metrics::Histogram& h);

struct Summary {
  RunFacts facts;
  double duration_s = 0;
  uint64_t requests_total = 0;
  double rps = 0;
  std::map<std::string, uint64_t> status_codes;  // "200" -> count
  std::map<std::string, uint64_t> errors;        // every category, zero included
  uint64_t errors_total = 0;
  uint64_t dropped_iterations = 0;
  uint64_t data_sent = 0, data_received = 0;
  LatencySummary latency;                                      // request_duration_seconds
  std::optional<LatencySummary> from_intended;                 // open models
  std::vector<std::pair<std::string, LatencySummary>> phases;  // blocked, connecting, ...
};

Summary Summarize(const metrics::Snapshot& snapshot, const RunFacts& facts);

// The human report printed on stdout at the end.
std::string FormatReport(const Summary& s);

// The JSON of --summary-export. Keys: requests_total, rps, duration_s, status_codes,
// errors, dropped_iterations, latency_ms{min,mean,p50,p90,p95,p99,p999,max}, and more.
nlohmann::json ToJson(const Summary& s);

}  // namespace volley::output
