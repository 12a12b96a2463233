#include "volley/common/env.h"

#include <cstdlib>

extern char** environ;

namespace volley {

EnvLookup ProcessEnv() {
  return [](const char* name) -> const char* { return std::getenv(name); };
}

EnvMap ProcessEnvMap(std::initializer_list<std::string_view> prefixes) {
  EnvMap env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view kv(*e);
    const size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    bool wanted = prefixes.size() == 0;
    for (std::string_view p : prefixes) wanted = wanted || kv.starts_with(p);
    if (wanted) env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

std::string EnvOr(const EnvLookup& env, const char* name, std::string_view fallback) {
  const char* v = env(name);
  return v != nullptr && *v != '\0' ? std::string(v) : std::string(fallback);
}

}  // namespace volley
