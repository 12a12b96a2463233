// Environment variables of the seed project's interface (specs/standalone-compat.md),
// applied over a TestPlan. Flags are applied after them by the CLI.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "volley/common/env.h"
#include "volley/common/result.h"
#include "volley/common/url.h"
#include "volley/config/test_plan.h"

namespace volley::config {

// How variables are looked up (common/env.h): injected so tests need no real environment.
using ::volley::EnvLookup;
using ::volley::ProcessEnv;

// One documented variable, for --help.
struct EnvVarDoc {
  const char* name;
  const char* meaning;
};
const std::vector<EnvVarDoc>& EnvVarDocs();

// Applies every set variable of EnvVarDocs() to `plan`. Returns all problems at once, one
// per line, each naming the variable ("TEST_DURATION: invalid duration 'x': ...").
Result<void> ApplyEnv(const EnvLookup& env, TestPlan& plan);

// Parsers shared by env, flags and YAML (URLs, booleans and numbers: common/url.h, parse.h).
using ::volley::ParseUrl;
// "Name: value,Name2: value2" with "\," for a literal comma.
Result<std::vector<Header>> ParseHeaderList(std::string_view text);
// "Concurrent", "Rps", "RampRps", "DailyTraffic", "Stages" (any case; also "ramp").
Result<LoadModelKind> ParseLoadModelKind(std::string_view text);
// "30s:100,1m:200" → stages.
Result<std::vector<Stage>> ParseStages(std::string_view text);
// "host:ip:port" (RESOLVE_TARGET_ADDR).
Result<void> ParseResolve(std::string_view text, TestPlan& plan);

// Fills what the plan leaves empty and only the system knows: node_id (the hostname) and
// run_id (time-based and random, e.g. "run-20261121T0950-3fa2c1").
void FillIdentity(TestPlan& plan);

// Checks the plan as a whole (required fields, ranges, model parameters). All problems are
// returned together, one per line.
Result<void> Validate(const TestPlan& plan);

}  // namespace volley::config
