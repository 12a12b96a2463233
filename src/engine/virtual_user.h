// One virtual user of scenario mode (engine internal): the state a worker keeps per
// connection while it runs a scenario iteration on it. Confined to its worker's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "scenario/cookie_jar.h"
#include "scenario/step_cache.h"
#include "scenario/variables.h"
#include "scenario_program.h"
#include "volley/common/event_loop.h"
#include "volley/metrics/histogram.h"
#include "volley/metrics/series.h"

namespace volley::engine {

class Worker;

struct VirtualUser final : Timer {
  enum class Phase : uint8_t {
    kIdle,      // no iteration
    kWaiting,   // the current step goes as soon as the connection is ready
    kOnWire,    // the current step's request is in flight
    kSleeping,  // think time or retry delay (the timer is armed)
  };

  Worker* worker = nullptr;
  Connection* connection = nullptr;  // the plan's base URL; the user's place in the pool
  // Its connection to each host of ScenarioProgram::hosts ([0] is `connection`); those of
  // other hosts connect when a step needs them and stay out of the pool.
  std::vector<Connection*> hosts;
  Phase phase = Phase::kIdle;
  // The user keeps its variables and cookies from one iteration to the next.
  scenario::Variables vars;
  scenario::CookieJar cookies;
  scenario::StepCache cache;  // `cache: {ttl}` steps' extracted values
  size_t scenario = 0;        // index into ScenarioProgram::scenarios
  size_t step = 0;
  int attempt = 0;  // retries of the current step so far
  bool iteration_ok = true;
  Nanos iteration_start{0};
  Nanos intended{0};        // of the current step's request (the arrival for the first)
  std::string request;      // the current step's bytes (valid while on the wire)
  std::string cookie_path;  // the current step's rendered path, for the cookie jar

  void OnTimer() override;
};

// Metric handles of one step of one scenario (stable pointers into the worker's shard).
struct StepMetrics {
  metrics::Counter* ok = nullptr;
  metrics::Counter* failed = nullptr;
  metrics::Counter* cache_hits = nullptr;  // status="success", cache="hit"; cached steps only
  metrics::Counter* assertions_passed = nullptr;
  metrics::Counter* assertions_failed = nullptr;
  metrics::Histogram* duration = nullptr;
  std::vector<std::pair<int, metrics::Counter*>> status;  // registered on first sight
};

struct ScenarioMetrics {
  // scenario_requests_total by host (ScenarioProgram::hosts); a `host` label only when
  // the plan has more than one.
  std::vector<metrics::Counter*> requests;
  metrics::Counter* succeeded = nullptr;
  metrics::Counter* failed = nullptr;
  metrics::Counter* exhausted = nullptr;
  metrics::Histogram* duration = nullptr;
  std::vector<StepMetrics> steps;
};

}  // namespace volley::engine
