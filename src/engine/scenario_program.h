// The scenarios of a plan compiled for execution (engine internal): templates parsed,
// variable names interned, regular expressions and JSON paths compiled, data files loaded.
// Built once by Engine::Create; then immutable and shared read-only by every worker thread
// (the data feeders inside are thread-safe).
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "scenario/assertion.h"
#include "scenario/data_feeder.h"
#include "scenario/data_file.h"
#include "scenario/extractor.h"
#include "scenario/sampling.h"
#include "scenario/template.h"
#include "scenario/variables.h"
#include "volley/common/result.h"
#include "volley/config/test_plan.h"

namespace volley::engine {

struct CompiledStep {
  std::string name;
  std::string method;
  bool head = false;
  scenario::Template path;
  scenario::QueryTemplate query;
  // The plan's custom headers merged with the step's (the step's win by name), then Host
  // and User-Agent unless given.
  std::vector<std::pair<std::string, scenario::Template>> headers;
  scenario::Template body;
  bool send_length = false;  // Content-Length even when the body is empty (POST/PUT/PATCH)
  bool replayable = false;   // may be sent again after a stale connection (Connection::Send)
  std::vector<scenario::Extractor> extract;
  std::vector<scenario::Assertion> assertions;
  config::ThinkTime think;
  bool needs_body = false;  // an extraction or assertion reads the body
};

struct CompiledScenario {
  std::string name;
  std::vector<CompiledStep> steps;
  std::unique_ptr<scenario::DataFeeder> data;  // null without a data file
  std::string data_path;
  std::vector<scenario::VarId> data_columns;  // the variable of each column
  Nanos timeout{0};                           // per request
  int retries = 0;
  Nanos retry_delay{0};
};

struct ScenarioProgram {
  scenario::VariableTable variables;
  std::vector<CompiledScenario> scenarios;
  scenario::WeightedPicker picker;

  // Thread-safe: true the first time `message` is noted (for "log once" warnings from the
  // workers; a cold path).
  bool NoteOnce(const std::string& message) const;

 private:
  mutable std::mutex mu_;
  mutable std::set<std::string> noted_;  // guarded by mu_
};

// Compiles plan.scenarios (non-empty). Every problem is reported, one per line, prefixed
// with the origin of its step or scenario ("plan.yaml:12:7: scenarios[0].steps[1]: ..."):
// regular expressions and JSON paths that do not compile, data files that cannot be read,
// and variables that no extraction of the scenario sets and no column of its data file
// provides.
Result<std::unique_ptr<ScenarioProgram>> CompileScenarios(const config::TestPlan& plan);

}  // namespace volley::engine
