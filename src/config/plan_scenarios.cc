// The `scenarios:`, `thresholds:` and `outputs:` sections of a YAML plan.
#include <algorithm>

#include "plan_reader.h"
#include "volley/common/strings.h"
#include "volley/config/values.h"

namespace volley::config {
namespace {

std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// `${` without a closing brace, or an empty/odd name, found while loading (the engine
// compiles templates later; this catches typos with their position).
std::optional<std::string> TemplateProblem(std::string_view text) {
  for (size_t i = text.find("${"); i != std::string_view::npos; i = text.find("${", i + 2)) {
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) return "unterminated '${' (write ${name})";
    const std::string_view name = text.substr(i + 2, close - i - 2);
    if (name.empty()) return "empty variable name in '${}'";
    for (char c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
        return "invalid variable name '" + std::string(name) +
               "' (letters, digits, '_', '-' and '.')";
      }
    }
  }
  return std::nullopt;
}

class StepReader {
 public:
  StepReader(PlanReader& r, const std::string& path) : r_(r), path_(path) {}

  std::optional<std::string> TemplateText(const YAML::Node& n, const std::string& path) {
    auto text = r_.Text(n, path);
    if (!text) return std::nullopt;
    if (auto problem = TemplateProblem(*text)) {
      r_.Problem(n, path, *problem);
      return std::nullopt;
    }
    return text;
  }

  // A mapping of name: value (query parameters, headers) in document order.
  std::vector<KeyValue> Pairs(const YAML::Node& n, const std::string& path) {
    std::vector<KeyValue> out;
    if (!r_.IsMap(n, path)) return out;
    for (const auto& kv : n) {
      const std::string key = kv.first.as<std::string>();
      if (key.empty()) r_.Problem(kv.first, path, "empty name");
      if (auto value = TemplateText(kv.second, path + "." + key)) out.emplace_back(key, *value);
    }
    return out;
  }

  void Request(const YAML::Node& req, const std::string& base_path, Step& step) {
    const std::string path = path_ + ".request";
    if (!r_.IsMap(req, path)) return;
    r_.CheckKeys(req, path, {"method", "path", "queryParams", "headers", "body", "bodySize"});
    if (const YAML::Node m = req["method"]) {
      if (auto text = r_.Text(m, path + ".method")) {
        step.method = ToUpper(*text);
        static const char* kMethods[] = {"GET",   "POST", "PUT",    "DELETE",
                                         "PATCH", "HEAD", "OPTIONS"};
        if (std::find(std::begin(kMethods), std::end(kMethods), step.method) ==
            std::end(kMethods)) {
          r_.Problem(m, path + ".method", "must be GET, POST, PUT, DELETE, PATCH, HEAD or OPTIONS");
        }
      }
    }
    std::string target = base_path == "/" ? "" : base_path;
    if (const YAML::Node p = req["path"]) {
      if (auto text = TemplateText(p, path + ".path")) {
        if (StartsWithIgnoreCase(*text, "http://") || StartsWithIgnoreCase(*text, "https://")) {
          target = FullUrl(p, path + ".path", *text, step);
        } else {
          target += *text;
        }
      }
    }
    step.path = target.empty() || target[0] != '/' ? "/" + target : target;
    if (const YAML::Node q = req["queryParams"]) step.query = Pairs(q, path + ".queryParams");
    if (const YAML::Node h = req["headers"]) step.headers = Pairs(h, path + ".headers");
    if (const YAML::Node b = req["body"]) {
      if (b.IsMap() || b.IsSequence()) {
        r_.Problem(b, path + ".body", "must be a string; quote a JSON body: body: '{\"a\": 1}'");
      } else if (auto text = TemplateText(b, path + ".body")) {
        step.body = *text;
      }
    }
    if (const YAML::Node b = req["bodySize"]) {
      if (req["body"]) {
        r_.Problem(b, path + ".bodySize", "body and bodySize exclude each other: give one");
      } else if (auto text = r_.Text(b, path + ".bodySize")) {
        auto size = ParseBodySize(*text);
        size ? void(step.body_size = *size)
             : r_.Problem(b, path + ".bodySize", size.error().message);
      }
    }
  }

  void Cache(const YAML::Node& c, Step& step) {
    const std::string path = path_ + ".cache";
    if (!r_.IsMap(c, path)) return;
    r_.CheckKeys(c, path, {"ttl"});
    if (!c["ttl"]) {
      r_.Problem(c, path + ".ttl", "required: how long the extracted values stay fresh, e.g. 5m");
      return;
    }
    if (auto text = r_.Text(c["ttl"], path + ".ttl")) {
      auto d = ParseDuration(*text);
      if (!d) {
        r_.Problem(c["ttl"], path + ".ttl", d.error().message);
      } else if (d->count() <= 0) {
        r_.Problem(c["ttl"], path + ".ttl", "must be > 0");
      } else {
        step.cache_ttl = *d;
      }
    }
    if (step.extract.empty()) {
      r_.Problem(c, path, "caches the step's extracted variables, but the step extracts none");
    }
  }

  // A full-URL path: the origin goes to step.origin_url; returns the path and query. The
  // origin is fixed when the plan loads, so it may not use variables.
  std::string FullUrl(const YAML::Node& n, const std::string& path, const std::string& text,
                      Step& step) {
    const size_t authority = text.find("://") + 3;
    const size_t slash = std::min(text.find_first_of("/?", authority), text.size());
    const std::string origin = text.substr(0, slash);
    if (origin.find("${") != std::string::npos) {
      r_.Problem(n, path,
                 "the host of a full URL cannot use variables (only its path and query can)");
      return "/";
    }
    auto url = ParseUrl(origin);
    if (!url) {
      r_.Problem(n, path, url.error().message);
      return "/";
    }
    step.origin_url = *url;
    return text.substr(slash);
  }

  void Extract(const YAML::Node& list, Step& step) {
    const std::string path = path_ + ".extract";
    if (!list.IsSequence()) {
      r_.Problem(list, path, "must be a list of {type, name, ...}");
      return;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node e = list[i];
      const std::string at = Index(path, i);
      if (!r_.IsMap(e, at)) continue;
      r_.CheckKeys(e, at, {"type", "name", "jsonPath", "regex", "header", "cookie"});
      Extraction x;
      auto type = e["type"] ? r_.Text(e["type"], at + ".type") : std::nullopt;
      if (!e["type"]) r_.Problem(e, at + ".type", "required: jsonPath, regex, header or cookie");
      if (auto name = e["name"] ? r_.Text(e["name"], at + ".name") : std::nullopt) {
        if (TemplateProblem("${" + *name + "}")) {
          r_.Problem(e["name"], at + ".name", "must be letters, digits, '_', '-' or '.'");
        }
        x.name = *name;
      } else if (!e["name"]) {
        r_.Problem(e, at + ".name", "required: the variable to set");
      }
      if (!type) continue;
      static const std::pair<const char*, Extraction::Kind> kKinds[] = {
          {"jsonPath", Extraction::Kind::kJsonPath},
          {"regex", Extraction::Kind::kRegex},
          {"header", Extraction::Kind::kHeader},
          {"cookie", Extraction::Kind::kCookie}};
      bool known = false;
      for (const auto& [key, kind] : kKinds) {
        if (!EqualsIgnoreCase(*type, key)) continue;
        known = true;
        x.kind = kind;
        if (const YAML::Node v = e[key]) {
          if (auto text = r_.Text(v, at + "." + key)) x.expr = *text;
        } else {
          r_.Problem(e, at + "." + key, std::string("required for type ") + key);
        }
      }
      if (!known) {
        r_.Problem(e["type"], at + ".type",
                   "unknown extractor '" + *type + "' (use jsonPath, regex, header or cookie)");
        continue;
      }
      step.extract.push_back(std::move(x));
    }
  }

  void Assertions(const YAML::Node& list, Step& step) {
    const std::string path = path_ + ".assertions";
    if (!list.IsSequence()) {
      r_.Problem(list, path, "must be a list of {type, ...}");
      return;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node a = list[i];
      const std::string at = Index(path, i);
      if (!r_.IsMap(a, at)) continue;
      Assertion x;
      auto type = a["type"] ? r_.Text(a["type"], at + ".type") : std::nullopt;
      if (!type) {
        if (!a["type"]) {
          r_.Problem(a, at + ".type",
                     "required: statusCode, responseTime, bodyContains, bodyMatches, jsonPath "
                     "or headerExists");
        }
        continue;
      }
      // Each kind: its key holding the value, and the keys it accepts.
      auto need = [&](const char* key) -> std::optional<std::string> {
        if (const YAML::Node v = a[key]) return r_.Text(v, at + "." + key);
        r_.Problem(a, at + "." + key, std::string("required for type ") + *type);
        return std::nullopt;
      };
      if (EqualsIgnoreCase(*type, "statusCode")) {
        r_.CheckKeys(a, at, {"type", "expected"});
        x.kind = Assertion::Kind::kStatusCode;
        if (a["expected"])
          r_.Number(a, "expected", at, x.status, 100);
        else
          need("expected");
        if (x.status > 599) r_.Problem(a["expected"], at + ".expected", "must be 100-599");
      } else if (EqualsIgnoreCase(*type, "responseTime")) {
        r_.CheckKeys(a, at, {"type", "max"});
        x.kind = Assertion::Kind::kResponseTime;
        if (a["max"]) {
          if (auto text = r_.Text(a["max"], at + ".max")) {
            auto d = ParseDurationMillisDefault(*text);
            d ? void(x.max_time = *d) : r_.Problem(a["max"], at + ".max", d.error().message);
          }
        } else {
          need("max");
        }
      } else if (EqualsIgnoreCase(*type, "bodyContains")) {
        r_.CheckKeys(a, at, {"type", "text"});
        x.kind = Assertion::Kind::kBodyContains;
        if (auto t = need("text")) x.text = *t;
      } else if (EqualsIgnoreCase(*type, "bodyMatches")) {
        r_.CheckKeys(a, at, {"type", "regex"});
        x.kind = Assertion::Kind::kBodyMatches;
        if (auto t = need("regex")) x.text = *t;
      } else if (EqualsIgnoreCase(*type, "jsonPath")) {
        r_.CheckKeys(a, at, {"type", "path", "expected"});
        x.kind = Assertion::Kind::kJsonPath;
        if (auto t = need("path")) x.text = *t;
        if (const YAML::Node v = a["expected"]) {
          if (auto t = r_.Text(v, at + ".expected")) x.expected = *t;
        }
      } else if (EqualsIgnoreCase(*type, "headerExists")) {
        r_.CheckKeys(a, at, {"type", "header"});
        x.kind = Assertion::Kind::kHeaderExists;
        if (auto t = need("header")) x.text = *t;
      } else {
        r_.Problem(a["type"], at + ".type",
                   "unknown assertion '" + *type +
                       "' (use statusCode, responseTime, bodyContains, bodyMatches, jsonPath or "
                       "headerExists)");
        continue;
      }
      step.assertions.push_back(std::move(x));
    }
  }

  void Think(const YAML::Node& t, Step& step) {
    const std::string path = path_ + ".thinkTime";
    auto parse = [&](const YAML::Node& n, const std::string& at, Nanos& out) {
      if (auto text = r_.Text(n, at)) {
        auto d = ParseDurationMillisDefault(*text);
        d ? void(out = *d) : r_.Problem(n, at, d.error().message);
      }
    };
    if (t.IsMap()) {
      r_.CheckKeys(t, path, {"min", "max"});
      if (!t["min"] || !t["max"]) {
        r_.Problem(t, path, "needs both min and max, e.g. {min: 1s, max: 5s}");
        return;
      }
      parse(t["min"], path + ".min", step.think.min);
      parse(t["max"], path + ".max", step.think.max);
      if (step.think.min > step.think.max) r_.Problem(t, path, "min must not exceed max");
    } else {
      parse(t, path, step.think.min);
      step.think.max = step.think.min;
    }
  }

 private:
  PlanReader& r_;
  const std::string& path_;
};

}  // namespace

void PlanReader::Scenarios(const YAML::Node& s, const std::string& base_dir, TestPlan& plan) {
  if (!s.IsSequence() || s.size() == 0) {
    Problem(s, "scenarios", "must be a non-empty list");
    return;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    const YAML::Node sc = s[i];
    const std::string path = Index("scenarios", i);
    if (!IsMap(sc, path)) continue;
    CheckKeys(sc, path, {"name", "weight", "steps", "dataFile", "config"});
    Scenario scenario;
    scenario.origin = Origin(sc, path);
    if (const YAML::Node n = sc["name"]) {
      if (auto text = Text(n, path + ".name")) scenario.name = *text;
    }
    if (scenario.name.empty()) scenario.name = "scenario" + std::to_string(i + 1);
    for (const Scenario& other : plan.scenarios) {
      if (other.name == scenario.name) {
        Problem(sc["name"] ? sc["name"] : sc, path + ".name",
                "'" + scenario.name + "' is already the name of another scenario");
      }
    }
    Number(sc, "weight", path, scenario.weight, 0);
    if (sc["weight"] && scenario.weight <= 0) {
      Problem(sc["weight"], path + ".weight", "must be > 0");
    }
    if (const YAML::Node d = sc["dataFile"]) {
      const std::string at = path + ".dataFile";
      if (IsMap(d, at)) {
        CheckKeys(d, at, {"path", "format", "strategy"});
        DataFile data;
        if (const YAML::Node p = d["path"]) {
          if (auto text = Text(p, at + ".path")) {
            if (text->empty()) Problem(p, at + ".path", "must not be empty");
            const bool absolute = !text->empty() && (*text)[0] == '/';
            data.path = absolute ? *text : base_dir + *text;
            if (!absolute && !base_dir.empty()) data.fallback_path = *text;
            if (text->size() > 5 && EqualsIgnoreCase(text->substr(text->size() - 5), ".json")) {
              data.format = DataFile::Format::kJson;
            }
          }
        } else {
          Problem(d, at + ".path", "required: the CSV or JSON file");
        }
        if (const YAML::Node f = d["format"]) {
          if (auto text = Text(f, at + ".format")) {
            if (EqualsIgnoreCase(*text, "csv"))
              data.format = DataFile::Format::kCsv;
            else if (EqualsIgnoreCase(*text, "json"))
              data.format = DataFile::Format::kJson;
            else
              Problem(f, at + ".format", "must be csv or json, got '" + *text + "'");
          }
        }
        if (const YAML::Node st = d["strategy"]) {
          if (auto text = Text(st, at + ".strategy")) {
            if (EqualsIgnoreCase(*text, "sequential")) {
              data.strategy = DataFile::Strategy::kSequential;
            } else if (EqualsIgnoreCase(*text, "random")) {
              data.strategy = DataFile::Strategy::kRandom;
            } else if (EqualsIgnoreCase(*text, "cycle")) {
              data.strategy = DataFile::Strategy::kCycle;
            } else {
              Problem(st, at + ".strategy",
                      "must be sequential, random or cycle, got '" + *text + "'");
            }
          }
        }
        scenario.data = std::move(data);
      }
    }
    if (const YAML::Node c = sc["config"]) {
      const std::string at = path + ".config";
      if (IsMap(c, at)) {
        CheckKeys(c, at, {"timeout", "retryCount", "retryDelay"});
        Duration(c, "timeout", at, scenario.timeout);
        Number(c, "retryCount", at, scenario.retry_count, 0);
        if (scenario.retry_count > 10)
          Problem(c["retryCount"], at + ".retryCount", "must be <= 10");
        Duration(c, "retryDelay", at, scenario.retry_delay);
      }
    }
    const YAML::Node steps = sc["steps"];
    if (!steps || !steps.IsSequence() || steps.size() == 0) {
      Problem(steps ? steps : sc, path + ".steps", "must be a non-empty list of steps");
      plan.scenarios.push_back(std::move(scenario));
      continue;
    }
    for (size_t j = 0; j < steps.size(); ++j) {
      const YAML::Node st = steps[j];
      const std::string at = Index(path + ".steps", j);
      if (!IsMap(st, at)) continue;
      CheckKeys(st, at, {"name", "request", "extract", "assertions", "thinkTime", "cache"});
      Step step;
      step.origin = Origin(st, at);
      if (const YAML::Node n = st["name"]) {
        if (auto text = Text(n, at + ".name")) step.name = *text;
      }
      if (step.name.empty()) step.name = "step" + std::to_string(j + 1);
      StepReader reader(*this, at);
      if (const YAML::Node r = st["request"]) {
        reader.Request(r, plan.target.path, step);
      } else {
        Problem(st, at + ".request", "required");
      }
      if (const YAML::Node e = st["extract"]) reader.Extract(e, step);
      if (const YAML::Node a = st["assertions"]) reader.Assertions(a, step);
      if (const YAML::Node t = st["thinkTime"]) reader.Think(t, step);
      if (const YAML::Node c = st["cache"]) reader.Cache(c, step);
      scenario.steps.push_back(std::move(step));
    }
    plan.scenarios.push_back(std::move(scenario));
  }
}

void PlanReader::Thresholds(const YAML::Node& t, TestPlan& plan) {
  if (!IsMap(t, "thresholds")) return;
  for (const auto& kv : t) {
    const std::string metric = kv.first.as<std::string>();
    const std::string path = "thresholds." + metric;
    const YAML::Node list = kv.second;
    if (!list.IsSequence()) {
      Problem(list, path, "must be a list of conditions, e.g. [\"p(95)<200ms\"]");
      continue;
    }
    Threshold plain{.metric = metric, .origin = Origin(kv.first, path)};
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node c = list[i];
      const std::string at = Index(path, i);
      if (c.IsMap()) {  // {threshold, abortOnFail, delayAbortEval}
        CheckKeys(c, at, {"threshold", "abortOnFail", "delayAbortEval"});
        Threshold one{.metric = metric, .origin = Origin(c, at)};
        if (auto text = c["threshold"] ? Text(c["threshold"], at + ".threshold") : std::nullopt) {
          one.conditions.push_back(*text);
        } else if (!c["threshold"]) {
          Problem(c, at + ".threshold", "required, e.g. threshold: \"p(95)<200ms\"");
        }
        Bool(c, "abortOnFail", at, one.abort_on_fail);
        Duration(c, "delayAbortEval", at, one.delay_abort_eval);
        if (!one.conditions.empty()) plan.thresholds.push_back(std::move(one));
      } else if (auto text = Text(c, at)) {
        plain.conditions.push_back(*text);
      }
    }
    if (!plain.conditions.empty()) plan.thresholds.push_back(std::move(plain));
  }
}

void PlanReader::Outputs(const YAML::Node& o, TestPlan& plan) {
  if (!o.IsSequence()) {
    Problem(o, "outputs", "must be a list of {type, url, ...}");
    return;
  }
  for (size_t i = 0; i < o.size(); ++i) {
    const std::string at = Index("outputs", i);
    if (!IsMap(o[i], at)) continue;
    OutputSpec spec;
    spec.origin = Origin(o[i], at);
    for (const auto& kv : o[i]) {
      const std::string key = kv.first.as<std::string>();
      auto value = Text(kv.second, at + "." + key);
      if (!value) continue;
      if (key == "type") {
        spec.type = ToLower(*value);
      } else if (key == "url") {
        spec.url = *value;
      } else {
        spec.options.emplace_back(key, *value);
      }
    }
    if (spec.type.empty()) Problem(o[i], at + ".type", "required: cloud, otlp or prometheus-rw");
    plan.outputs.push_back(std::move(spec));
  }
}

}  // namespace volley::config
