// RE2 compilation shared by regex extractions and bodyMatches assertions (engine internal).
#pragma once

#include <re2/re2.h>

#include <memory>
#include <string_view>

#include "volley/common/result.h"

namespace volley::engine::scenario {

// Longest accepted pattern text, and the memory budget of one compiled pattern.
inline constexpr size_t kMaxRegexText = 4096;
inline constexpr int64_t kMaxRegexMemory = 2 * 1024 * 1024;

// Compiles `pattern` with RE2 (linear-time matching, no backreferences), errors not logged
// to stderr, program memory bounded by kMaxRegexMemory. `what` names the pattern in errors:
// "<what> 'a(b': missing ): a(b". Requires at least `min_groups` capture groups.
// The returned RE2 is immutable; matching on it is thread-safe (RE2 may briefly lock its
// internal DFA cache, so give each worker its own copy to avoid sharing).
Result<std::unique_ptr<RE2>> CompileRegex(std::string_view pattern, std::string_view what,
                                          int min_groups);

}  // namespace volley::engine::scenario
