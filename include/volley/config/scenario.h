// Multi-step scenarios, thresholds and outputs of a test plan (specs/standalone-compat.md
// "YAML test plan", plus volley's extensions). Plain validated values: the engine compiles
// them (templates, regular expressions, JSON paths) before the run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "volley/common/clock.h"

namespace volley::config {

using KeyValue = std::pair<std::string, std::string>;

// What one step keeps from a response into the user's variables. `expr` is the JSON path,
// the regular expression (its first capture group is the value), the header name or the
// cookie name, by kind.
struct Extraction {
  enum class Kind : uint8_t { kJsonPath, kRegex, kHeader, kCookie };
  Kind kind = Kind::kJsonPath;
  std::string name;  // variable name
  std::string expr;
};

// A check on a response. Which fields matter depends on the kind:
//   kStatusCode: status;  kResponseTime: max_time;  kBodyContains: text;
//   kBodyMatches: text (a regular expression);  kJsonPath: text (the path) and expected
//   (absent: the path must exist);  kHeaderExists: text (the header name).
struct Assertion {
  enum class Kind : uint8_t {
    kStatusCode,
    kResponseTime,
    kBodyContains,
    kBodyMatches,
    kJsonPath,
    kHeaderExists
  };
  Kind kind = Kind::kStatusCode;
  int status = 200;
  Nanos max_time{0};
  std::string text;
  std::optional<std::string> expected;
};

// Pause after a step: fixed when min == max, uniform in [min, max] otherwise.
struct ThinkTime {
  Nanos min{0};
  Nanos max{0};
  bool none() const { return max.count() == 0; }
};

// One request of a scenario. Path, query values, header values and body may contain
// ${name} references to variables (extracted values, data-file columns).
struct Step {
  std::string name;
  // Where the step is written, for errors found after loading (e.g. a variable no earlier
  // step defines): "plan.yaml:12:7: scenarios[0].steps[1]".
  std::string origin;
  std::string method = "GET";
  std::string path = "/";
  std::vector<KeyValue> query;    // appended to the path as ?k=v&..., values URL-encoded
  std::vector<KeyValue> headers;  // over the plan's custom headers (same name replaces)
  std::string body;
  std::vector<Extraction> extract;
  std::vector<Assertion> assertions;
  ThinkTime think;
};

struct DataFile {
  enum class Format : uint8_t { kCsv, kJson };
  // sequential: each row once, in order, across all users; a user that finds none left
  //   stops. cycle: in order, starting again after the last. random: uniformly at random.
  enum class Strategy : uint8_t { kSequential, kRandom, kCycle };
  std::string path;  // resolved against the plan file's directory
  Format format = Format::kCsv;
  Strategy strategy = Strategy::kSequential;
};

struct Scenario {
  std::string name;
  std::string origin;  // as Step::origin: "plan.yaml:8:5: scenarios[0]"
  double weight = 1;   // relative; > 0
  std::optional<DataFile> data;
  Nanos timeout{0};     // per request; 0 = the plan's request timeout
  int retry_count = 0;  // extra attempts of a step that failed (network, timeout, 5xx)
  Nanos retry_delay{0};
  std::vector<Step> steps;
};

// k6-style threshold: `metric` (optionally with labels, as in `name{scenario="x"}`) and
// its conditions, e.g. "p(95)<200ms", "rate<0.01", "count>1000", "avg<100ms".
struct Threshold {
  std::string metric;  // as written, e.g. request_duration_seconds{scenario="Browse"}
  std::string origin;  // "plan.yaml:40:5: thresholds.request_duration_seconds"
  std::vector<std::string> conditions;
  bool abort_on_fail = false;
  Nanos delay_abort_eval{0};  // abortOnFail is not evaluated before this much of the run
};

// `outputs:` entry, or `--out type[=url]`. Options are kept as strings; the output
// module that owns `type` validates them.
struct OutputSpec {
  std::string type;    // "cloud", "otlp", ...
  std::string origin;  // "plan.yaml:50:5: outputs[0]", or "--out"
  std::string url;     // may be empty: the output's default
  std::vector<KeyValue> options;
};

}  // namespace volley::config
