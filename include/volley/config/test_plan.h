// The validated description of one load test. Everything the engine needs, whatever the
// source (YAML plan, environment, flags): see config/env.h and config/plan_yaml.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/url.h"
#include "volley/config/scenario.h"

namespace volley::config {

using Header = std::pair<std::string, std::string>;

// A parsed http(s) URL (common/url.h).
using Url = ::volley::Url;

enum class LoadModelKind { kConcurrent, kRps, kRamp, kDailyTraffic, kStages };

// One step of the `stages` model: the arrival rate moves linearly to `target` over
// `duration`.
struct Stage {
  Nanos duration{0};
  double target = 0;
};

// The shape of the offered load. Open models (everything but kConcurrent) describe an
// arrival rate of iterations per second; see engine/rate_schedule.h for the semantics.
struct LoadModel {
  LoadModelKind kind = LoadModelKind::kConcurrent;
  double target = 0;        // kRps
  double min = 0, max = 0;  // kRamp, kDailyTraffic
  double mid = 0;           // kDailyTraffic
  Nanos ramp_duration{0};   // kRamp; 0 = the whole test
  Nanos cycle_duration{0};  // kDailyTraffic
  // kDailyTraffic phase shares: morning ramp, peak sustain, mid decline, mid sustain,
  // evening decline; the rest of the cycle holds `min`.
  double ratios[5] = {0.125, 0.167, 0.125, 0.167, 0.167};
  std::vector<Stage> stages;  // kStages
  // Open models: the most iterations started and not finished (queued for a connection or
  // on the wire). An arrival beyond it is counted in dropped_iterations. 0 = default.
  uint64_t max_in_flight = 0;
  bool open() const { return kind != LoadModelKind::kConcurrent; }
};

struct TlsOptions {
  bool skip_verify = false;
  std::string client_cert_path;  // PEM; with client_key_path for mTLS
  std::string client_key_path;
  std::string ca_file;  // extra trust anchors (PEM); system store otherwise
};

// The request of single-request mode.
struct RequestSpec {
  std::string method = "GET";
  std::string path;  // empty: the URL's path
  std::vector<Header> headers;
  std::string body;
};

// A node's part of a plan that a cluster divides among its nodes (see plan_split.h): of the
// plan's sequence of open-model arrivals (k = 0, 1, 2, ...), the node makes those with
// k % count == index, at the plan's instants; of a sequential data file's rows, it uses
// those with row % count == index. {0, 1} is the whole plan.
struct Segment {
  uint32_t index = 0;
  uint32_t count = 1;
  bool whole() const { return count <= 1; }
};

struct TestPlan {
  Url target;
  Nanos duration = std::chrono::hours(2);
  Nanos request_timeout = std::chrono::seconds(30);
  Nanos connect_timeout = std::chrono::seconds(10);
  // Closed model: concurrent users (one connection each). Open models: the connection
  // pool that carries the arrivals.
  int workers = 10;
  int threads = 0;                               // worker threads; 0 = one per core
  uint64_t max_requests = 0;                     // stop after this many requests (0 = no limit)
  Nanos grace_period = std::chrono::seconds(3);  // drain time at stop
  std::vector<Header> custom_headers;
  TlsOptions tls;
  // RESOLVE_TARGET_ADDR: connect to this address instead of resolving the host.
  std::string resolve_host;
  std::string resolve_ip;
  uint16_t resolve_port = 0;
  LoadModel load;
  RequestSpec request;
  std::string metric_namespace = "volley";
  // Prometheus endpoint (METRICS_ADDR, --metrics-addr); empty = off. A bind failure of the
  // default address is a warning; of one the user chose, an error.
  std::string metrics_addr = "0.0.0.0:9090";
  bool metrics_addr_chosen = false;
  // After the test, how long to keep serving so that a scraper sees the final values
  // (only if something scraped during the run; ends at the first scrape after the end).
  Nanos metrics_linger = std::chrono::seconds(5);
  std::string node_id;  // default: hostname
  std::string region = "local";
  std::string run_id;
  // Scenario mode when not empty: every iteration runs one scenario, chosen by weight.
  // Empty: single-request mode with `request`.
  std::vector<Scenario> scenarios;
  std::vector<Threshold> thresholds;
  std::vector<OutputSpec> outputs;
  // Set by SharePlan on a node of a cluster; the whole plan otherwise.
  Segment segment;
  // Where each plan-wide value was set, by its plan key: "load.min" → "plan.yaml:9:3"
  // (the YAML reader) or "MIN_RPS" (ApplyEnv, which wins over the file). Validate prefixes
  // its problems with it; a key without an origin kept its default.
  std::map<std::string, std::string> origins;
};

}  // namespace volley::config
