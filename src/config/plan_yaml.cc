#include "volley/config/plan_yaml.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "plan_reader.h"

namespace volley::config {

void PlanReader::Config(const YAML::Node& c, TestPlan& plan) {
  if (!IsMap(c, "config")) return;
  CheckKeys(c, "config",
            {"baseUrl", "duration", "timeout", "workers", "skipTlsVerify", "customHeaders",
             "threads", "maxRequests", "connectTimeout"});
  Mark(c, "config");
  if (const YAML::Node u = c["baseUrl"]) {
    Mark(u, "config.baseUrl");
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
  Mark(l, "load");
  if (const YAML::Node m = l["model"]) {
    Mark(m, "load.model");
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
    Mark(s, "load.stages");
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

namespace {

std::string DirectoryOf(const std::string& file) {
  const size_t slash = file.rfind('/');
  return slash == std::string::npos ? "" : file.substr(0, slash + 1);
}

}  // namespace

PlanRead ReadPlanYaml(std::string_view text, const std::string& file) {
  PlanRead out;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    out.problems.Add(file + ":" + std::to_string(e.mark.line + 1) + ":" +
                     std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
    return out;
  }
  TestPlan& plan = out.plan;
  PlanReader reader(file);
  if (!root.IsMap()) {
    out.problems.Add(file +
                     ":1:1: the plan must be a mapping with version, config, load, scenarios");
    return out;
  }
  out.structured = true;
  try {
    reader.CheckKeys(
        root, "", {"version", "metadata", "config", "load", "scenarios", "thresholds", "outputs"});
    if (const YAML::Node m = root["metadata"]) {
      if (reader.IsMap(m, "metadata")) {
        reader.CheckKeys(m, "metadata", {"name", "description", "author", "tags"});
      }
    }
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
    if (const YAML::Node s = root["scenarios"]) reader.Scenarios(s, DirectoryOf(file), plan);
    if (const YAML::Node t = root["thresholds"]) reader.Thresholds(t, plan);
    if (const YAML::Node o = root["outputs"]) reader.Outputs(o, plan);
  } catch (const YAML::Exception& e) {
    reader.Problem(root, "plan", std::string("unexpected structure: ") + e.what());
  }
  out.problems = reader.problems();
  plan.origins = reader.origins();
  return out;
}

Result<TestPlan> ParsePlanYaml(std::string_view text, const std::string& file) {
  PlanRead read = ReadPlanYaml(text, file);
  if (!read.problems.empty()) return tl::unexpected(read.problems.ToError());
  return std::move(read.plan);
}

Result<TestPlan> LoadPlanFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return MakeError(ErrorCode::kInvalidArgument, path + ": cannot open the plan file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParsePlanYaml(buffer.str(), path);
}

}  // namespace volley::config
