// Environment variables of the seed project's interface (specs/standalone-compat.md),
// applied over a TestPlan. Flags are applied after them by the CLI. The value parsers,
// identity and whole-plan checks have headers of their own, included here for the
// callers that want the whole configuration interface.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "volley/common/env.h"
#include "volley/common/result.h"
#include "volley/common/url.h"
#include "volley/config/identity.h"
#include "volley/config/test_plan.h"
#include "volley/config/validate.h"
#include "volley/config/values.h"

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

// Applies every set variable of EnvVarDocs() to `plan` and records in plan.origins the
// keys it set. Returns all problems at once (Error::problems), each naming the variable
// ("TEST_DURATION: invalid duration 'x': ...").
Result<void> ApplyEnv(const EnvLookup& env, TestPlan& plan);

}  // namespace volley::config
