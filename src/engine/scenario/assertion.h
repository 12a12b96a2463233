// Assertions: checks on a response, counted per scenario and step (engine internal).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "scenario/json_path.h"
#include "scenario/response.h"
#include "volley/common/result.h"
#include "volley/config/scenario.h"

namespace re2 {
class RE2;
}

namespace volley::engine::scenario {

// One compiled config::Assertion:
//   kStatusCode:   the status equals `status`;
//   kResponseTime: response.elapsed <= max_time;
//   kBodyContains: the body contains `text` (bytes, case-sensitive);
//   kBodyMatches:  RE2 partial match of the pattern `text` anywhere in the body;
//   kJsonPath:     the path `text` matches something (null counts), and if `expected` is
//                  given, the match's text (json_path.h) equals it exactly: strings compare
//                  unquoted ("active"), numbers as their JSON text (expected "1" matches 1,
//                  "1.5" matches 1.5, but "1.0" does not match 1), true/false/null as words;
//   kHeaderExists: a header named `text` (case-insensitive) is present.
// Immutable after Compile; Check is const and thread-safe (but see pattern.h on sharing).
class Assertion {
 public:
  // Errors (kInvalidArgument): a bad status (not 100..599), a negative max time, empty
  // text, a bad regular expression or JSON path.
  static Result<Assertion> Compile(const config::Assertion& spec);

  Assertion(Assertion&&) noexcept;
  Assertion& operator=(Assertion&&) noexcept;
  ~Assertion();

  // True if `response` passes. On failure, if `why` is not null, replaces `*why` with the
  // reason, e.g. "status 404, expected 200" or "$.status is \"gone\", expected \"active\"".
  // `json` is the thread's cache, reset for this response. Allocates only on failure (why)
  // and for the text of a JSON object/array compared with `expected`.
  bool Check(const ResponseView& response, JsonBodyCache& json, std::string* why) const;

  // E.g. "statusCode == 200", "responseTime <= 500ms", "jsonPath $.status == \"active\"".
  std::string Describe() const;
  config::Assertion::Kind kind() const { return spec_.kind; }

 private:
  Assertion() = default;
  config::Assertion spec_;
  std::unique_ptr<JsonPath> path_;  // kJsonPath
  std::unique_ptr<re2::RE2> re_;    // kBodyMatches
};

}  // namespace volley::engine::scenario
