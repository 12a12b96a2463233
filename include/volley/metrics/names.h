// Names of the metrics a node measures (specs/standalone-compat.md), without the
// namespace prefix (METRIC_NAMESPACE, default "volley"), which outputs add. The engine
// records under these names; every output reads them back from a Snapshot.
#pragma once

namespace volley::metrics {

namespace names {
inline constexpr const char* kRequests = "requests_total";
inline constexpr const char* kStatusCodes = "requests_status_codes_total";  // status_code
inline constexpr const char* kErrors = "request_errors_by_category";        // category
inline constexpr const char* kDuration = "request_duration_seconds";  // sending+waiting+receiving
inline constexpr const char* kBlocked = "request_blocked_seconds";
inline constexpr const char* kConnecting = "request_connecting_seconds";
inline constexpr const char* kTlsHandshaking = "request_tls_handshaking_seconds";
inline constexpr const char* kSending = "request_sending_seconds";
inline constexpr const char* kWaiting = "request_waiting_seconds";
inline constexpr const char* kReceiving = "request_receiving_seconds";
// Open models: from the intended send time to the end of the response.
inline constexpr const char* kIntendedLatency = "request_latency_from_intended_seconds";
inline constexpr const char* kDataSent = "data_sent_bytes_total";
inline constexpr const char* kDataReceived = "data_received_bytes_total";
inline constexpr const char* kDroppedIterations = "dropped_iterations_total";
inline constexpr const char* kConcurrentRequests = "concurrent_requests";
// Requests sent again on a new connection because their reused keep-alive connection was
// closed by the server before any byte of a response (not errors; see engine::Connection).
inline constexpr const char* kStaleRetries = "stale_connection_retries_total";
// Scenario mode (labels in comments). `status` is "success" or "failure"; `result` of an
// assertion is "passed" or "failed".
inline constexpr const char* kScenarioRequests = "scenario_requests_total";      // scenario
inline constexpr const char* kScenarioExecutions = "scenario_executions_total";  // scenario, status
inline constexpr const char* kScenarioDuration = "scenario_duration_seconds";    // scenario
// scenario, step, status; steps with `cache: {ttl}` also have a {status="success",
// cache="hit"} series: skipped because their cached values were fresh (no request).
inline constexpr const char* kStepsTotal = "scenario_steps_total";
inline constexpr const char* kStepDuration = "scenario_step_duration_seconds";  // scenario, step
inline constexpr const char* kStepStatusCodes =
    "scenario_step_status_codes_total";  // scenario, step, status_code
inline constexpr const char* kAssertions = "scenario_assertions_total";  // scenario, step, result
// Scenario users stopped because a sequential data file ran out of rows.
inline constexpr const char* kDataExhausted = "scenario_data_exhausted_total";  // scenario
inline constexpr const char* kScenarioLabel = "scenario";
inline constexpr const char* kStepLabel = "step";
inline constexpr const char* kCacheLabel = "cache";
// scenario_requests_total of a plan whose steps go to more than one host: "host:port".
inline constexpr const char* kHostLabel = "host";
inline constexpr const char* kStatusLabel = "status_code";
inline constexpr const char* kCategoryLabel = "category";
// Error category label values, in the order of engine::ErrorCategory.
inline constexpr const char* kCategories[] = {"client_error",  "server_error", "network_error",
                                              "timeout_error", "tls_error",    "other_error"};
}  // namespace names

}  // namespace volley::metrics
