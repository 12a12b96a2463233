// Internal to config: the YAML walker of plan_yaml.cc and plan_scenarios.cc. It collects
// every problem with its position instead of stopping at the first.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "volley/common/duration.h"
#include "volley/common/parse.h"
#include "volley/common/problems.h"
#include "volley/common/result.h"
#include "volley/common/strings.h"
#include "volley/config/env.h"
#include "volley/config/test_plan.h"

namespace volley::config {

// Walks the document, collecting problems with their positions.
class PlanReader {
 public:
  explicit PlanReader(std::string file) : file_(std::move(file)) {}

  // Records where the value of plan key `path` was written (TestPlan::origins).
  void Mark(const YAML::Node& node, const std::string& path) {
    const YAML::Mark m = node.Mark();
    origins_[path] = file_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
  }

  void Problem(const YAML::Node& node, const std::string& path, const std::string& message) {
    problems_.Add(Origin(node, path) + ": " + message);
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
    Mark(n, full);
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
    Mark(n, path + "." + key);
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
    auto b = ParseBool(Trim(*text));
    b ? void(out = *b) : Problem(n, path + "." + key, b.error().message);
  }

  // "file:line:col: path", for plan parts checked after loading (Step::origin).
  std::string Origin(const YAML::Node& node, const std::string& path) const {
    const YAML::Mark m = node.Mark();
    return file_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) + ": " +
           path;
  }

  // plan_yaml.cc
  void Config(const YAML::Node& c, TestPlan& plan);
  void Load(const YAML::Node& l, TestPlan& plan);
  // plan_scenarios.cc. `base_dir` resolves relative data-file paths.
  void Scenarios(const YAML::Node& s, const std::string& base_dir, TestPlan& plan);
  void Thresholds(const YAML::Node& t, TestPlan& plan);
  void Outputs(const YAML::Node& o, TestPlan& plan);

  // Every problem found, positioned; empty when the plan was read cleanly.
  const Problems& problems() const { return problems_; }
  // Where each plan-wide value was written (TestPlan::origins).
  const std::map<std::string, std::string>& origins() const { return origins_; }

 private:
  std::string file_;
  Problems problems_;
  std::map<std::string, std::string> origins_;
};

}  // namespace volley::config
