// The one way to read the process environment. Code that reads variables takes an
// EnvLookup or an EnvMap, so tests inject their own; only the CLI passes the real one.
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

namespace volley {

// Looks a variable up; nullptr when unset.
using EnvLookup = std::function<const char*(const char*)>;

// Variables by name (the push outputs' settings read K6_CLOUD_*, VOLLEY_CLOUD_*, OTEL_*).
using EnvMap = std::map<std::string, std::string>;

// The process environment as an EnvLookup (getenv). Valid while the environment is not
// changed; setenv in another thread is not safe against it (as getenv).
EnvLookup ProcessEnv();

// The process environment as a map: every variable, or with `prefixes` only those whose
// name starts with one of them.
EnvMap ProcessEnvMap(std::initializer_list<std::string_view> prefixes = {});

// `env(name)` when set and not empty, else `fallback`.
std::string EnvOr(const EnvLookup& env, const char* name, std::string_view fallback);

}  // namespace volley
