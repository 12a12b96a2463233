#include "volley/config/env.h"

#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <random>
#include <string>

#include "volley/common/duration.h"
#include "volley/common/http_lex.h"
#include "volley/common/parse.h"
#include "volley/common/problems.h"
#include "volley/common/strings.h"

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

Result<std::vector<Header>> ParseHeaderList(std::string_view text) {
  std::vector<Header> headers;
  std::string item;
  auto flush = [&]() -> Result<void> {
    std::string_view it = Trim(item);
    if (it.empty()) return {};
    size_t colon = it.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "header '" + std::string(it) + "' must look like 'Name: value'");
    }
    std::string name(Trim(it.substr(0, colon)));
    if (!http::IsToken(name)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "header name '" + name + "' has an invalid character");
    }
    headers.emplace_back(std::move(name), std::string(Trim(it.substr(colon + 1))));
    item.clear();
    return {};
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == ',') {
      item += ',';
      ++i;
    } else if (text[i] == ',') {
      if (auto r = flush(); !r) return tl::unexpected(r.error());
    } else if (text[i] == '\r' || text[i] == '\n') {
      return MakeError(ErrorCode::kInvalidArgument, "headers must not contain line breaks");
    } else {
      item += text[i];
    }
  }
  if (auto r = flush(); !r) return tl::unexpected(r.error());
  return headers;
}

Result<LoadModelKind> ParseLoadModelKind(std::string_view text) {
  std::string s = ToLower(Trim(text));
  if (s == "concurrent") return LoadModelKind::kConcurrent;
  if (s == "rps") return LoadModelKind::kRps;
  if (s == "ramprps" || s == "ramp") return LoadModelKind::kRamp;
  if (s == "dailytraffic") return LoadModelKind::kDailyTraffic;
  if (s == "stages") return LoadModelKind::kStages;
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown load model '" + std::string(text) +
                       "': use Concurrent, Rps, RampRps, DailyTraffic or Stages");
}

Result<std::vector<Stage>> ParseStages(std::string_view text) {
  std::vector<Stage> stages;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string_view item = Trim(
        text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos));
    size_t colon = item.find(':');
    if (colon == std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "stage '" + std::string(item) + "' must be 'duration:rate', e.g. 30s:100");
    }
    auto d = ParseDuration(item.substr(0, colon));
    if (!d) return tl::unexpected(d.error());
    auto r = ParseNumber(Trim(item.substr(colon + 1)));
    if (!r || *r < 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "stage '" + std::string(item) + "': rate must be a number >= 0");
    }
    stages.push_back(Stage{*d, *r});
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return stages;
}

Result<void> ParseResolve(std::string_view text, TestPlan& plan) {
  // host:ip:port; the ip may be an IPv6 literal in brackets.
  std::string_view s = Trim(text);
  auto bad = [&]() {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid override '" + std::string(text) +
                         "': expected host:ip:port, e.g. api.example.com:127.0.0.1:8443");
  };
  size_t first = s.find(':');
  size_t last = s.rfind(':');
  if (first == std::string_view::npos || first == last) return bad();
  std::string ip(s.substr(first + 1, last - first - 1));
  if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  auto port = ParseInt(Trim(s.substr(last + 1)));
  if (first == 0 || ip.empty() || !port || *port < 1 || *port > 65535) return bad();
  plan.resolve_host = std::string(s.substr(0, first));
  plan.resolve_ip = ip;
  plan.resolve_port = static_cast<uint16_t>(*port);
  return {};
}

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

void FillIdentity(TestPlan& plan) {
  if (plan.node_id.empty()) {
    char host[256] = {};
    plan.node_id = gethostname(host, sizeof host - 1) == 0 && host[0] ? host : "localhost";
  }
  if (plan.run_id.empty()) {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    std::random_device rd;
    char suffix[8];
    snprintf(suffix, sizeof suffix, "%06x", rd() & 0xffffff);
    plan.run_id = std::string("run-") + stamp + "-" + suffix;
  }
}

namespace {

std::string Num(double v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

Result<void> Validate(const TestPlan& plan) {
  Problems p;
  // "plan.yaml:9:3: load.min" where the plan says where `key` was set ("MIN_RPS: load.min"
  // for a variable), else `name`: how the value is known to a user without a plan.
  auto at = [&](const std::string& key, const std::string& name) {
    auto it = plan.origins.find(key);
    return it == plan.origins.end() ? name : it->second + ": " + key;
  };
  if (plan.target.host.empty()) {
    p.Add(at("config.baseUrl", "target"),
          "no target URL: set TARGET_URL, --url, or config.baseUrl in a plan");
  }
  if (plan.duration <= Nanos(0)) {
    p.Add(at("config.duration", "duration"), "must be > 0, got " + FormatDuration(plan.duration));
  }
  if (plan.request_timeout <= Nanos(0)) {
    p.Add(at("config.timeout", "timeout"),
          "must be > 0, got " + FormatDuration(plan.request_timeout));
  }
  if (plan.connect_timeout <= Nanos(0)) {
    p.Add(at("config.connectTimeout", "connect timeout"),
          "must be > 0, got " + FormatDuration(plan.connect_timeout));
  }
  if (plan.workers < 1 || plan.workers > 1'000'000) {
    p.Add(at("config.workers", "workers"),
          "must be between 1 and 1000000, got " + std::to_string(plan.workers));
  }
  if (plan.threads < 0 || plan.threads > 1024) {
    p.Add(at("config.threads", "threads"),
          "must be between 0 and 1024, got " + std::to_string(plan.threads));
  }
  const auto& m = plan.request.method;
  if (m.empty() || m.find_first_of(" \r\n\t") != std::string::npos) {
    p.Add("method", "invalid HTTP method '" + m + "'");
  }
  if (plan.tls.client_cert_path.empty() != plan.tls.client_key_path.empty()) {
    p.Add("mTLS", "give both CLIENT_CERT_PATH and CLIENT_KEY_PATH, or neither");
  }
  if (!plan.resolve_host.empty() && !EqualsIgnoreCase(plan.resolve_host, plan.target.host)) {
    p.Add("RESOLVE_TARGET_ADDR",
          "host '" + plan.resolve_host + "' is not the target host '" + plan.target.host +
              "', so the override would never apply; use " + plan.target.host + ":IP:PORT");
  }
  const LoadModel& l = plan.load;
  // Arrival rates beyond what one node could start are typos, and would only spin.
  constexpr double kMaxRate = 10'000'000;
  const std::pair<const char*, double> rates[] = {
      {"target", l.target}, {"min", l.min}, {"max", l.max}, {"mid", l.mid}};
  for (const auto& [key, rate] : rates) {
    if (!std::isfinite(rate) || rate > kMaxRate) {
      p.Add(at(std::string("load.") + key, "load"),
            "rates must be finite and at most 10000000/s, got " + std::to_string(rate));
      break;
    }
  }
  for (const auto& s : l.stages) {
    if (!std::isfinite(s.target) || s.target > kMaxRate) {
      p.Add(at("load.stages", "load.stages"),
            "stage rates must be at most 10000000/s, got " + Num(s.target));
      break;
    }
  }
  if (l.max_in_flight > 10'000'000) {
    p.Add(at("load.maxInFlight", "load.maxInFlight"),
          "must be at most 10000000, got " + std::to_string(l.max_in_flight));
  }
  switch (l.kind) {
    case LoadModelKind::kConcurrent:
      break;
    case LoadModelKind::kRps:
      if (l.target <= 0) {
        p.Add(at("load.target", "load.target"),
              "the Rps model needs a target rate > 0 (TARGET_RPS), got " + Num(l.target));
      }
      break;
    case LoadModelKind::kRamp:
      if (l.min < 0) p.Add(at("load.min", "load.min"), "must be >= 0, got " + Num(l.min));
      if (l.max <= 0) {
        p.Add(at("load.max", "load.max"),
              "the ramp model needs max > 0 (MAX_RPS), got " + Num(l.max));
      }
      if (l.min > l.max) {
        p.Add(at("load.min", "load.min"),
              "must be <= load.max (min " + Num(l.min) + ", max " + Num(l.max) + ")");
      }
      if (l.ramp_duration < Nanos(0)) {
        p.Add(at("load.rampDuration", "load.rampDuration"), "must be >= 0");
      }
      break;
    case LoadModelKind::kDailyTraffic: {
      const std::string figures =
          " (min " + Num(l.min) + ", mid " + Num(l.mid) + ", max " + Num(l.max) + ")";
      if (l.min < 0) p.Add(at("load.min", "load.min"), "must be >= 0, got " + Num(l.min));
      if (l.max <= 0) {
        p.Add(at("load.max", "load.max"),
              "dailytraffic needs max > 0 (DAILY_MAX_RPS), got " + Num(l.max));
      }
      if (l.mid < l.min) p.Add(at("load.mid", "load.mid"), "must be >= load.min" + figures);
      if (l.max < l.mid) p.Add(at("load.max", "load.max"), "must be >= load.mid" + figures);
      if (l.cycle_duration <= Nanos(0)) {
        p.Add(at("load.cycleDuration", "load.cycleDuration"),
              "must be > 0, got " + FormatDuration(l.cycle_duration));
      }
      static const char* const kRatioKeys[5] = {"morningRampRatio", "peakSustainRatio",
                                                "midDeclineRatio", "midSustainRatio",
                                                "eveningDeclineRatio"};
      double sum = 0;
      for (size_t i = 0; i < 5; ++i) {
        const std::string key = std::string("load.") + kRatioKeys[i];
        if (l.ratios[i] < 0) p.Add(at(key, key), "must be >= 0, got " + Num(l.ratios[i]));
        sum += l.ratios[i];
      }
      if (sum > 1.0 + 1e-9) {
        p.Add(at("load", "load ratios"),
              "the five phase ratios add up to more than 1, got " + Num(sum));
      }
      break;
    }
    case LoadModelKind::kStages:
      if (l.stages.empty()) {
        p.Add(at("load.stages", "load.stages"), "the stages model needs at least one stage");
      }
      for (size_t i = 0; i < l.stages.size(); ++i) {
        const Stage& s = l.stages[i];
        if (s.duration <= Nanos(0) || s.target < 0) {
          p.Add(at("load.stages", "load.stages"),
                "every stage needs a duration > 0 and a target >= 0, got stage " +
                    std::to_string(i) + " " + FormatDuration(s.duration) + ":" + Num(s.target));
          break;
        }
      }
      break;
  }
  return p.Done();
}

}  // namespace volley::config
