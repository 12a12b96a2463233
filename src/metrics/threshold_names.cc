// The k6 and volley metric names a threshold may use, and the suggestions for a name it
// does not know (threshold_names.h).
#include "threshold_names.h"

#include "volley/common/strings.h"
#include "volley/metrics/names.h"

namespace volley::metrics::threshold_detail {

namespace {

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

}  // namespace

const KnownMetric* FindKnownMetric(std::string_view name) {
  for (const KnownMetric& k : kKnown) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

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

}  // namespace volley::metrics::threshold_detail
