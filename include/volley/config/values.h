// Parsers of the plan's composite values, shared by the environment, flags and YAML
// (URLs, booleans, numbers, durations and sizes: common/url.h, parse.h, duration.h).
// Errors quote the text and show the expected form; kInvalidArgument.
#pragma once

#include <string_view>
#include <vector>

#include "volley/common/result.h"
#include "volley/common/url.h"
#include "volley/config/test_plan.h"

namespace volley::config {

using ::volley::ParseUrl;
// "Name: value,Name2: value2" with "\," for a literal comma; names must be HTTP tokens.
Result<std::vector<Header>> ParseHeaderList(std::string_view text);
// "Concurrent", "Rps", "RampRps", "DailyTraffic", "Stages" (any case; also "ramp").
Result<LoadModelKind> ParseLoadModelKind(std::string_view text);
// "30s:100,1m:200" → stages.
Result<std::vector<Stage>> ParseStages(std::string_view text);
// "host:ip:port" (RESOLVE_TARGET_ADDR) into plan.resolve_*.
Result<void> ParseResolve(std::string_view text, TestPlan& plan);

}  // namespace volley::config
