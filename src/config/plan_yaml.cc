#include "volley/config/plan_yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <type_traits>

#include "volley/common/duration.h"
#include "volley/common/strings.h"
#include "volley/config/env.h"

namespace volley::config {
namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// Walks the document, collecting problems with their positions.
class PlanReader {
 public:
  explicit PlanReader(std::string file) : file_(std::move(file)) {}

  void Problem(const YAML::Node& node, const std::string& path, const std::string& message) {
    const YAML::Mark m = node.Mark();
    std::ostringstream line;
    line << file_ << ":" << (m.line + 1) << ":" << (m.column + 1) << ": " << path << ": "
         << message;
    problems_.push_back(line.str());
  }

  // Flags keys of `map` that are not in `known`.
  void CheckKeys(const YAML::Node& map, const std::string& path,
                 std::initializer_list<std::string_view> known) {
    for (const auto& kv : map) {
      const std::string key = kv.first.as<std::string>();
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      std::string hint;
      size_t best = 3;
      for (std::string_view k : known) {
        size_t d = EditDistance(key, k);
        if (d < best) {
          best = d;
          hint = " (did you mean '" + std::string(k) + "'?)";
        }
      }
      Problem(kv.first, path.empty() ? key : path + "." + key, "unknown key" + hint);
    }
  }

  bool IsMap(const YAML::Node& n, const std::string& path) {
    if (n.IsMap()) return true;
    Problem(n, path, "must be a mapping");
    return false;
  }

  std::optional<std::string> Text(const YAML::Node& n, const std::string& path) {
    if (n.IsScalar()) return n.Scalar();
    Problem(n, path, "must be a single value");
    return std::nullopt;
  }

  template <typename T>
  void Number(const YAML::Node& parent, const char* key, const std::string& path, T& out,
              double min_value) {
    const YAML::Node n = parent[key];
    if (!n) return;
    const std::string full = path + "." + key;
    try {
      const double v = n.as<double>();
      if (!std::isfinite(v) || v > 1e15) {
        Problem(n, full, "must be a finite number below 1e15, got " + n.Scalar());
        return;
      }
      if (std::is_integral_v<T> && v != std::floor(v)) {
        Problem(n, full, "must be a whole number, got " + n.Scalar());
        return;
      }
      if (v < min_value) {
        Problem(n, full,
                "must be >= " + std::to_string(static_cast<long long>(min_value)) + ", got " +
                    n.Scalar());
        return;
      }
      out = static_cast<T>(v);
    } catch (const YAML::Exception&) {
      Problem(n, full, "must be a number, got '" + (n.IsScalar() ? n.Scalar() : "?") + "'");
    }
  }

  void Duration(const YAML::Node& parent, const char* key, const std::string& path, Nanos& out) {
    const YAML::Node n = parent[key];
    if (!n) return;
    auto text = Text(n, path + "." + key);
    if (!text) return;
    auto d = ParseDuration(*text);
    d ? void(out = *d) : Problem(n, path + "." + key, d.error().message);
  }

  void Bool(const YAML::Node& parent, const char* key, const std::string& path, bool& out) {
    const YAML::Node n = parent[key];
    if (!n) return;
    auto text = Text(n, path + "." + key);
    if (!text) return;
    auto b = ParseBool(*text);
    b ? void(out = *b) : Problem(n, path + "." + key, b.error().message);
  }

  void Config(const YAML::Node& c, TestPlan& plan);
  void Load(const YAML::Node& l, TestPlan& plan);
  void Scenarios(const YAML::Node& s, TestPlan& plan);
  void Request(const YAML::Node& r, const std::string& path, TestPlan& plan);

  Result<void> Done() const {
    if (problems_.empty()) return {};
    std::string all;
    for (const auto& p : problems_) all += (all.empty() ? "" : "\n") + p;
    return MakeError(ErrorCode::kInvalidArgument, all);
  }

 private:
  std::string file_;
  std::vector<std::string> problems_;
};

void PlanReader::Config(const YAML::Node& c, TestPlan& plan) {
  if (!IsMap(c, "config")) return;
  CheckKeys(c, "config",
            {"baseUrl", "duration", "timeout", "workers", "skipTlsVerify", "customHeaders",
             "threads", "maxRequests", "connectTimeout"});
  if (const YAML::Node u = c["baseUrl"]) {
    if (auto text = Text(u, "config.baseUrl")) {
      auto url = ParseUrl(*text);
      url ? void(plan.target = *url) : Problem(u, "config.baseUrl", url.error().message);
    }
  } else {
    Problem(c, "config.baseUrl", "required (the target's base URL)");
  }
  if (!c["duration"]) Problem(c, "config.duration", "required, e.g. 30s, 5m, 2h");
  Duration(c, "duration", "config", plan.duration);
  Duration(c, "timeout", "config", plan.request_timeout);
  Duration(c, "connectTimeout", "config", plan.connect_timeout);
  Number(c, "workers", "config", plan.workers, 1);
  Number(c, "threads", "config", plan.threads, 0);
  Number(c, "maxRequests", "config", plan.max_requests, 0);
  Bool(c, "skipTlsVerify", "config", plan.tls.skip_verify);
  if (const YAML::Node h = c["customHeaders"]) {
    if (auto text = Text(h, "config.customHeaders")) {
      auto headers = ParseHeaderList(*text);
      headers ? void(plan.custom_headers = *headers)
              : Problem(h, "config.customHeaders", headers.error().message);
    }
  }
}

void PlanReader::Load(const YAML::Node& l, TestPlan& plan) {
  if (!IsMap(l, "load")) return;
  CheckKeys(l, "load",
            {"model", "target", "min", "max", "mid", "rampDuration", "cycleDuration",
             "morningRampRatio", "peakSustainRatio", "midDeclineRatio", "midSustainRatio",
             "eveningDeclineRatio", "stages", "maxInFlight"});
  if (const YAML::Node m = l["model"]) {
    if (auto text = Text(m, "load.model")) {
      auto kind = ParseLoadModelKind(*text);
      kind ? void(plan.load.kind = *kind) : Problem(m, "load.model", kind.error().message);
    }
  }
  LoadModel& lm = plan.load;
  Number(l, "target", "load", lm.target, 0);
  Number(l, "min", "load", lm.min, 0);
  Number(l, "max", "load", lm.max, 0);
  Number(l, "mid", "load", lm.mid, 0);
  Number(l, "maxInFlight", "load", lm.max_in_flight, 1);
  Duration(l, "rampDuration", "load", lm.ramp_duration);
  Duration(l, "cycleDuration", "load", lm.cycle_duration);
  const char* ratios[5] = {"morningRampRatio", "peakSustainRatio", "midDeclineRatio",
                           "midSustainRatio", "eveningDeclineRatio"};
  for (int i = 0; i < 5; ++i) Number(l, ratios[i], "load", lm.ratios[i], 0);
  if (const YAML::Node s = l["stages"]) {
    if (!s.IsSequence()) {
      Problem(s, "load.stages", "must be a list of {duration, target}");
      return;
    }
    lm.stages.clear();
    for (size_t i = 0; i < s.size(); ++i) {
      const std::string path = "load.stages[" + std::to_string(i) + "]";
      if (!IsMap(s[i], path)) continue;
      CheckKeys(s[i], path, {"duration", "target"});
      Stage stage;
      if (!s[i]["duration"] || !s[i]["target"]) Problem(s[i], path, "needs duration and target");
      Duration(s[i], "duration", path, stage.duration);
      Number(s[i], "target", path, stage.target, 0);
      lm.stages.push_back(stage);
    }
  }
}

void PlanReader::Request(const YAML::Node& r, const std::string& path, TestPlan& plan) {
  if (!IsMap(r, path)) return;
  CheckKeys(r, path, {"method", "path", "queryParams", "headers", "body"});
  if (const YAML::Node m = r["method"]) {
    if (auto text = Text(m, path + ".method")) {
      const std::string method = ToUpper(*text);
      static const char* kMethods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};
      if (std::find(std::begin(kMethods), std::end(kMethods), method) == std::end(kMethods)) {
        Problem(m, path + ".method", "must be GET, POST, PUT, DELETE, PATCH, HEAD or OPTIONS");
      }
      plan.request.method = method;
    }
  }
  std::string target = plan.target.path == "/" ? "" : plan.target.path;
  if (const YAML::Node p = r["path"]) {
    if (auto text = Text(p, path + ".path")) target += *text;
  }
  if (const YAML::Node q = r["queryParams"]) {
    if (IsMap(q, path + ".queryParams")) {
      char sep = target.find('?') == std::string::npos ? '?' : '&';
      for (const auto& kv : q) {
        target += sep + kv.first.as<std::string>() + "=" + kv.second.as<std::string>("");
        sep = '&';
      }
    }
  }
  if (!target.empty()) plan.request.path = target[0] == '/' ? target : "/" + target;
  if (const YAML::Node h = r["headers"]) {
    if (IsMap(h, path + ".headers")) {
      for (const auto& kv : h) {
        plan.request.headers.emplace_back(kv.first.as<std::string>(),
                                          kv.second.as<std::string>(""));
      }
    }
  }
  if (const YAML::Node b = r["body"]) {
    if (auto text = Text(b, path + ".body")) plan.request.body = *text;
  }
}

void PlanReader::Scenarios(const YAML::Node& s, TestPlan& plan) {
  if (!s.IsSequence() || s.size() == 0) {
    Problem(s, "scenarios", "must be a non-empty list");
    return;
  }
  if (s.size() > 1) {
    Problem(s[1], "scenarios[1]",
            "this build runs one scenario with one step; weighted multi-scenario plans come "
            "with the scenario executor");
  }
  const YAML::Node sc = s[0];
  if (!IsMap(sc, "scenarios[0]")) return;
  CheckKeys(sc, "scenarios[0]", {"name", "weight", "steps", "dataFile", "config"});
  for (const char* later : {"dataFile", "config"}) {
    if (sc[later]) {
      Problem(sc[later], std::string("scenarios[0].") + later,
              "not supported by this build yet (it comes with the scenario executor)");
    }
  }
  const YAML::Node steps = sc["steps"];
  if (!steps || !steps.IsSequence() || steps.size() == 0) {
    Problem(sc, "scenarios[0].steps", "must be a non-empty list of steps");
    return;
  }
  if (steps.size() > 1) {
    Problem(steps[1], "scenarios[0].steps[1]",
            "this build runs single-step scenarios; multi-step ones come with the scenario "
            "executor");
  }
  const YAML::Node step = steps[0];
  const std::string path = "scenarios[0].steps[0]";
  if (!IsMap(step, path)) return;
  CheckKeys(step, path, {"name", "request", "extract", "assertions", "thinkTime"});
  for (const char* later : {"extract", "assertions", "thinkTime"}) {
    if (step[later]) {
      Problem(step[later], path + "." + later,
              "not supported by this build yet (it comes with the scenario executor)");
    }
  }
  if (const YAML::Node r = step["request"]) {
    Request(r, path + ".request", plan);
  } else {
    Problem(step, path + ".request", "required");
  }
}

}  // namespace

Result<TestPlan> ParsePlanYaml(std::string_view text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    return MakeError(ErrorCode::kInvalidArgument, file + ":" + std::to_string(e.mark.line + 1) +
                                                      ":" + std::to_string(e.mark.column + 1) +
                                                      ": invalid YAML: " + e.msg);
  }
  TestPlan plan;
  PlanReader reader(file);
  if (!root.IsMap()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     file +
                         ":1:1: the plan must be a mapping with version, config, load, "
                         "scenarios");
  }
  try {
    reader.CheckKeys(root, "", {"version", "metadata", "config", "load", "scenarios"});
    if (const YAML::Node v = root["version"]) {
      const std::string version = v.IsScalar() ? v.Scalar() : "";
      const bool ok = version.size() >= 3 && version.find('.') != std::string::npos &&
                      std::all_of(version.begin(), version.end(),
                                  [](char c) { return std::isdigit(c) || c == '.'; });
      if (!ok) reader.Problem(v, "version", "must look like \"1.0\"");
    } else {
      reader.Problem(root, "version", "required, e.g. version: \"1.0\"");
    }
    if (const YAML::Node c = root["config"]) {
      reader.Config(c, plan);
    } else {
      reader.Problem(root, "config", "required (baseUrl and duration at least)");
    }
    if (const YAML::Node l = root["load"]) reader.Load(l, plan);
    if (const YAML::Node s = root["scenarios"]) reader.Scenarios(s, plan);
  } catch (const YAML::Exception& e) {
    reader.Problem(root, "plan", std::string("unexpected structure: ") + e.what());
  }
  if (auto r = reader.Done(); !r) return tl::unexpected(r.error());
  return plan;
}

Result<TestPlan> LoadPlanFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return MakeError(ErrorCode::kInvalidArgument, path + ": cannot open the plan file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParsePlanYaml(buffer.str(), path);
}

}  // namespace volley::config
