// Configuration of the cloud push output: options of the plan's `outputs:` entry or of
// `--out cloud=URL`, the process environment (k6's K6_CLOUD_* names and VOLLEY_CLOUD_*),
// and defaults, in that order of precedence.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/result.h"

namespace volley::output::cloud {

// How metric names travel: `kVolley` prefixes the snapshot's names with the metric
// namespace (`volley_request_duration_seconds`, as on /metrics); `kK6` renames the
// request metrics to k6's built-in names (http_reqs, http_req_duration, ...) with
// durations in milliseconds, for backends built for k6. Others keep their volley names.
enum class MetricNames { kVolley, kK6 };

// A validated configuration. A plain value.
struct CloudConfig {
  int api_version = 2;                                 // 2: protobuf + snappy; 1: JSON
  std::string scheme_host_port;                        // "http://127.0.0.1:8080"
  std::string base_path;                               // "" or "/prefix" (no trailing slash)
  std::string run_id;                                  // the test run id pushed to
  Nanos aggregation_period = std::chrono::seconds(3);  // whole seconds, >= 1 s
  Nanos wait_period = std::chrono::seconds(8);
  Nanos push_interval = std::chrono::seconds(1);
  int push_concurrency = 1;
  size_t max_series_in_batch = 1000;
  Nanos timeout = std::chrono::minutes(1);  // per request attempt
  std::string token;                        // empty: no Authorization header
  std::string auth_scheme = "Token";        // "Token" or "Bearer"
  bool stop_on_error = false;
  uint64_t max_backlog_bytes = 64ull << 20;  // request bodies waiting to be sent
  int retries = 3;                           // quick retries before a batch is backlogged
  Nanos retry_backoff = std::chrono::milliseconds(500);  // first retry delay
  Nanos max_retry_backoff = std::chrono::seconds(30);
  MetricNames metric_names = MetricNames::kVolley;
  std::string metric_namespace = "volley";

  // "/v2/metrics/<run>" (or v1), with the base path in front.
  std::string PushPath() const;
};

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// Builds the configuration. `url` is the base URL ("http://host:port[/path]"; empty: the
// `host` option or K6_CLOUD_HOST / VOLLEY_CLOUD_HOST). Options win over the environment,
// VOLLEY_CLOUD_X over K6_CLOUD_X, and both over the defaults. `run_id` and `ns` come from
// the run (OutputContext); the pushRefId option / K6_CLOUD_PUSH_REF_ID replaces `run_id`.
// Errors (kInvalidArgument): an unknown option, a value that does not parse or is out of
// range, no URL, no run id; the message names the option or variable and the fix.
Result<CloudConfig> ParseCloudConfig(const std::string& url, const KeyValues& options,
                                     const std::map<std::string, std::string>& env,
                                     const std::string& run_id, const std::string& ns);

// Help text: every option with its environment variables, default and meaning.
std::string CloudConfigDocs();

}  // namespace volley::output::cloud
