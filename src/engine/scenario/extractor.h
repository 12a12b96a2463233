// Extractions: values taken from a response into a user's variables (engine internal).
#pragma once

#include <memory>
#include <string>

#include "scenario/json_path.h"
#include "scenario/response.h"
#include "scenario/variables.h"
#include "volley/common/result.h"
#include "volley/config/scenario.h"

namespace re2 {
class RE2;
}

namespace volley::engine::scenario {

// One compiled config::Extraction:
//   kJsonPath: the JSON path's first match as text (see json_path.h);
//   kRegex:    the first capture group of the first match anywhere in the body
//              (RE2::PartialMatch); a pattern without a capture group is a compile error; a
//              match where the group did not take part (e.g. "(a)?b") extracts "";
//   kHeader:   the value of the first header with that name, case-insensitive;
//   kCookie:   the value of the first Set-Cookie of the response with that cookie name.
// Immutable after Compile; Apply is const and thread-safe (but see pattern.h on sharing).
class Extractor {
 public:
  // Interns the target variable into `table`. Errors (kInvalidArgument): an invalid
  // variable name, an empty expression, a bad JSON path or regular expression.
  static Result<Extractor> Compile(const config::Extraction& spec, VariableTable& table);

  Extractor(Extractor&&) noexcept;
  Extractor& operator=(Extractor&&) noexcept;
  ~Extractor();

  // Takes the value from `response` into `*out` (replacing its contents) and returns true,
  // or returns false if there is nothing to take (no match, no such header or cookie, body
  // not JSON). `json` is the thread's cache, reset for this response.
  bool Apply(const ResponseView& response, JsonBodyCache& json, std::string* out) const;

  // Apply, storing a found value in `vars` under variable(). `scratch` is reusable space.
  bool ApplyTo(const ResponseView& response, JsonBodyCache& json, std::string* scratch,
               Variables* vars) const;

  VarId variable() const { return var_; }
  config::Extraction::Kind kind() const { return kind_; }
  // E.g. "jsonPath $.token -> token", for logs and reports.
  std::string Describe() const;

 private:
  Extractor() = default;
  config::Extraction::Kind kind_ = config::Extraction::Kind::kJsonPath;
  VarId var_ = 0;
  std::string name_;
  std::string expr_;
  std::unique_ptr<JsonPath> path_;  // kJsonPath
  std::unique_ptr<re2::RE2> re_;    // kRegex
};

}  // namespace volley::engine::scenario
