// The environment applied over a plan (ApplyEnv).
#include "volley/config/env.h"

#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "volley/common/duration.h"
#include "volley/common/parse.h"
#include "volley/common/problems.h"
#include "volley/common/strings.h"
#include "volley/config/values.h"

namespace volley::config {

namespace {

// The plan key each variable sets (TestPlan::origins; the YAML spelling of the key).
constexpr std::pair<const char*, const char*> kPlanKeyOfVariable[] = {
    {"TARGET_URL", "config.baseUrl"},
    {"NUM_CONCURRENT_TASKS", "config.workers"},
    {"TEST_DURATION", "config.duration"},
    {"REQUEST_TIMEOUT", "config.timeout"},
    {"CONNECT_TIMEOUT", "config.connectTimeout"},
    {"MAX_REQUESTS", "config.maxRequests"},
    {"WORKER_THREADS", "config.threads"},
    {"LOAD_MODEL_TYPE", "load.model"},
    {"TARGET_RPS", "load.target"},
    {"MIN_RPS", "load.min"},
    {"MAX_RPS", "load.max"},
    {"RAMP_DURATION", "load.rampDuration"},
    {"DAILY_MIN_RPS", "load.min"},
    {"DAILY_MAX_RPS", "load.max"},
    {"DAILY_MID_RPS", "load.mid"},
    {"DAILY_CYCLE_DURATION", "load.cycleDuration"},
    {"MORNING_RAMP_RATIO", "load.morningRampRatio"},
    {"PEAK_SUSTAIN_RATIO", "load.peakSustainRatio"},
    {"MID_DECLINE_RATIO", "load.midDeclineRatio"},
    {"MID_SUSTAIN_RATIO", "load.midSustainRatio"},
    {"EVENING_DECLINE_RATIO", "load.eveningDeclineRatio"},
    {"LOAD_STAGES", "load.stages"},
    {"MAX_IN_FLIGHT", "load.maxInFlight"},
};

// Records that variable `name` set its plan key (a variable wins over the file).
void NoteOrigin(const char* name, TestPlan& plan) {
  for (const auto& [var, key] : kPlanKeyOfVariable) {
    if (std::string_view(var) == name) plan.origins[key] = name;
  }
}

}  // namespace

Result<void> ApplyEnv(const EnvLookup& env, TestPlan& plan) {
  Problems problems;
  auto get = [&](const char* name) -> const char* {
    const char* v = env(name);
    if (v != nullptr) NoteOrigin(name, plan);
    return v;
  };
  auto duration = [&](const char* name, Nanos& out) {
    if (const char* v = get(name)) {
      auto r = ParseDuration(v);
      if (problems.Check(name, r)) out = *r;
    }
  };
  auto number = [&](const char* name, double& out) {
    if (const char* v = get(name)) {
      auto r = ParseNumber(Trim(v));
      if (problems.Check(name, r)) out = *r;
    }
  };
  auto integer = [&](const char* name, auto& out) {
    using T = std::remove_reference_t<decltype(out)>;
    if (const char* v = get(name)) {
      auto r = ParseInt(Trim(v));
      if (!problems.Check(name, r)) return;
      if (*r < 0 || static_cast<uint64_t>(*r) > std::numeric_limits<T>::max()) {
        problems.Add(name, "must be between 0 and " +
                               std::to_string(std::numeric_limits<T>::max()) + ", got '" + v + "'");
        return;
      }
      out = static_cast<T>(*r);
    }
  };
  auto boolean = [&](const char* name, bool& out) {
    if (const char* v = get(name)) {
      auto r = ParseBool(Trim(v));
      if (problems.Check(name, r)) out = *r;
    }
  };
  auto text = [&](const char* name, std::string& out) {
    if (const char* v = get(name)) out = v;
  };

  if (const char* v = get("TARGET_URL")) {
    auto r = ParseUrl(v);
    if (problems.Check("TARGET_URL", r)) plan.target = *r;
  }
  if (const char* v = get("REQUEST_TYPE")) {
    plan.request.method = ToUpper(Trim(v));
  }
  bool send_json = false;
  boolean("SEND_JSON", send_json);
  if (send_json) {
    const char* payload = get("JSON_PAYLOAD");
    plan.request.body = payload ? payload : "";
    plan.request.headers.emplace_back("Content-Type", "application/json");
  }
  if (const char* v = get("CUSTOM_HEADERS")) {
    auto r = ParseHeaderList(v);
    if (problems.Check("CUSTOM_HEADERS", r)) plan.custom_headers = *r;
  }
  integer("NUM_CONCURRENT_TASKS", plan.workers);
  duration("TEST_DURATION", plan.duration);
  duration("REQUEST_TIMEOUT", plan.request_timeout);
  duration("CONNECT_TIMEOUT", plan.connect_timeout);
  integer("MAX_REQUESTS", plan.max_requests);
  boolean("SKIP_TLS_VERIFY", plan.tls.skip_verify);
  text("CLIENT_CERT_PATH", plan.tls.client_cert_path);
  text("CLIENT_KEY_PATH", plan.tls.client_key_path);
  text("CA_CERT_PATH", plan.tls.ca_file);
  if (const char* v = get("RESOLVE_TARGET_ADDR")) {
    problems.Check("RESOLVE_TARGET_ADDR", ParseResolve(v, plan));
  }
  if (const char* v = get("LOAD_MODEL_TYPE")) {
    auto r = ParseLoadModelKind(v);
    if (problems.Check("LOAD_MODEL_TYPE", r)) plan.load.kind = *r;
  }
  number("TARGET_RPS", plan.load.target);
  number("MIN_RPS", plan.load.min);
  number("MAX_RPS", plan.load.max);
  duration("RAMP_DURATION", plan.load.ramp_duration);
  number("DAILY_MIN_RPS", plan.load.min);  // the daily model shares min/max with the ramp
  number("DAILY_MAX_RPS", plan.load.max);
  number("DAILY_MID_RPS", plan.load.mid);
  duration("DAILY_CYCLE_DURATION", plan.load.cycle_duration);
  number("MORNING_RAMP_RATIO", plan.load.ratios[0]);
  number("PEAK_SUSTAIN_RATIO", plan.load.ratios[1]);
  number("MID_DECLINE_RATIO", plan.load.ratios[2]);
  number("MID_SUSTAIN_RATIO", plan.load.ratios[3]);
  number("EVENING_DECLINE_RATIO", plan.load.ratios[4]);
  if (const char* v = get("LOAD_STAGES")) {
    auto r = ParseStages(v);
    if (problems.Check("LOAD_STAGES", r)) plan.load.stages = *r;
  }
  integer("MAX_IN_FLIGHT", plan.load.max_in_flight);
  integer("WORKER_THREADS", plan.threads);
  text("METRIC_NAMESPACE", plan.metric_namespace);
  text("CLUSTER_NODE_ID", plan.node_id);
  text("CLUSTER_REGION", plan.region);
  text("RUN_ID", plan.run_id);
  if (const char* v = get("METRICS_ADDR")) {
    plan.metrics_addr = Trim(v);
    plan.metrics_addr_chosen = true;
  }
  duration("METRICS_LINGER", plan.metrics_linger);
  return problems.Done();
}

}  // namespace volley::config
