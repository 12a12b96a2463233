// The checks of a plan as a whole (Validate), positioned by TestPlan::origins.
#include "volley/config/validate.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <utility>

#include "volley/common/duration.h"
#include "volley/common/problems.h"
#include "volley/common/strings.h"

namespace volley::config {

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
  // for a variable); for a key the plan left out, where its section ("load") was written;
  // else `name`: how the value is known to a user without a plan.
  auto at = [&](const std::string& key, const std::string& name) {
    auto it = plan.origins.find(key);
    if (it == plan.origins.end()) it = plan.origins.find(key.substr(0, key.find('.')));
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
