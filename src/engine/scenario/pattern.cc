#include "scenario/pattern.h"

#include <string>

#include "scenario/excerpt.h"

namespace volley::engine::scenario {

Result<std::unique_ptr<RE2>> CompileRegex(std::string_view pattern, std::string_view what,
                                          int min_groups) {
  std::string prefix = std::string(what) + " " + Excerpt(pattern, '\'', 200) + ": ";
  if (pattern.size() > kMaxRegexText) {
    return MakeError(ErrorCode::kInvalidArgument,
                     prefix + "longer than " + std::to_string(kMaxRegexText) + " characters");
  }
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kMaxRegexMemory);
  auto re = std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) return MakeError(ErrorCode::kInvalidArgument, prefix + re->error());
  if (re->NumberOfCapturingGroups() < min_groups) {
    return MakeError(ErrorCode::kInvalidArgument,
                     prefix +
                         "needs a capture group, e.g. 'id=(\\d+)': its first group is "
                         "the extracted value");
  }
  return re;
}

}  // namespace volley::engine::scenario
