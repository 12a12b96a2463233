// The table of the environment variables volley reads, with their meaning (--help).
#include "volley/config/env.h"

namespace volley::config {

const std::vector<EnvVarDoc>& EnvVarDocs() {
  static const std::vector<EnvVarDoc> docs = {
      {"TARGET_URL", "base URL of the target, e.g. http://127.0.0.1:8080/path"},
      {"REQUEST_TYPE", "HTTP method of the single-request mode (default GET)"},
      {"SEND_JSON", "true: send JSON_PAYLOAD as the body with Content-Type: application/json"},
      {"JSON_PAYLOAD", "the JSON body sent when SEND_JSON=true"},
      {"CUSTOM_HEADERS", "'Name: value,Name2: value2' (\\, for a literal comma)"},
      {"NUM_CONCURRENT_TASKS", "concurrent users (closed model) or connections (open) (10)"},
      {"TEST_DURATION", "test length: 30s, 5m, 2h, 1d or integer seconds (2h)"},
      {"REQUEST_TIMEOUT", "per-request timeout (30s)"},
      {"CONNECT_TIMEOUT", "TCP+TLS connect timeout (10s)"},
      {"MAX_REQUESTS", "stop after this many requests (0 = by duration only)"},
      {"SKIP_TLS_VERIFY", "true: do not verify the server certificate"},
      {"CLIENT_CERT_PATH", "client certificate (PEM) for mTLS"},
      {"CLIENT_KEY_PATH", "client private key (PEM) for mTLS"},
      {"CA_CERT_PATH", "extra trusted CA certificates (PEM)"},
      {"RESOLVE_TARGET_ADDR", "host:ip:port: connect to ip:port for this host name"},
      {"LOAD_MODEL_TYPE", "Concurrent | Rps | RampRps | DailyTraffic | Stages"},
      {"TARGET_RPS", "arrival rate of the Rps model"},
      {"MIN_RPS", "RampRps low rate"},
      {"MAX_RPS", "RampRps high rate"},
      {"RAMP_DURATION", "RampRps ramp length (default: the test duration)"},
      {"DAILY_MIN_RPS", "DailyTraffic night rate"},
      {"DAILY_MID_RPS", "DailyTraffic afternoon rate"},
      {"DAILY_MAX_RPS", "DailyTraffic peak rate"},
      {"DAILY_CYCLE_DURATION", "DailyTraffic cycle length"},
      {"MORNING_RAMP_RATIO", "DailyTraffic share of the cycle rising min to max (0.125)"},
      {"PEAK_SUSTAIN_RATIO", "DailyTraffic share holding max (0.167)"},
      {"MID_DECLINE_RATIO", "DailyTraffic share falling max to mid (0.125)"},
      {"MID_SUSTAIN_RATIO", "DailyTraffic share holding mid (0.167)"},
      {"EVENING_DECLINE_RATIO", "DailyTraffic share falling mid to min (0.167)"},
      {"LOAD_STAGES", "Stages model: 'duration:rate,...', e.g. 30s:100,1m:500"},
      {"MAX_IN_FLIGHT", "open models: most iterations queued or in flight (default 10000)"},
      {"WORKER_THREADS", "event-loop threads (default: one per core)"},
      {"METRIC_NAMESPACE", "prefix of every metric name (volley)"},
      {"CLUSTER_NODE_ID", "node identity label (default: hostname)"},
      {"CLUSTER_REGION", "region label (local)"},
      {"RUN_ID", "run identity label (default: generated)"},
      {"METRICS_ADDR", "Prometheus /metrics address (0.0.0.0:9090; empty: off)"},
      {"METRICS_LINGER", "serve /metrics this long after the test if it was scraped (5s)"},
  };
  return docs;
}

}  // namespace volley::config
