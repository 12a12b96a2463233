#include "scenario/assertion.h"

#include <re2/re2.h>

#include "scenario/excerpt.h"
#include "scenario/pattern.h"
#include "volley/common/duration.h"

namespace volley::engine::scenario {
namespace {

using Kind = config::Assertion::Kind;

std::string Shown(std::string_view s) { return Excerpt(s, '"'); }

}  // namespace

Assertion::Assertion(Assertion&&) noexcept = default;
Assertion& Assertion::operator=(Assertion&&) noexcept = default;
Assertion::~Assertion() = default;

Result<Assertion> Assertion::Compile(const config::Assertion& spec) {
  Assertion a;
  a.spec_ = spec;
  auto bad = [](const std::string& what) {
    return tl::unexpected<Error>(Error{ErrorCode::kInvalidArgument, what});
  };
  switch (spec.kind) {
    case Kind::kStatusCode:
      if (spec.status < 100 || spec.status > 599) {
        return bad("statusCode: expected a status from 100 to 599, got " +
                   std::to_string(spec.status));
      }
      break;
    case Kind::kResponseTime:
      if (spec.max_time.count() < 0) return bad("responseTime: max must not be negative");
      break;
    case Kind::kBodyContains:
      if (spec.text.empty()) return bad("bodyContains: text must not be empty");
      break;
    case Kind::kBodyMatches: {
      auto re = CompileRegex(spec.text, "bodyMatches", 0);
      if (!re) return tl::unexpected(re.error());
      a.re_ = std::move(*re);
      break;
    }
    case Kind::kJsonPath: {
      auto path = JsonPath::Compile(spec.text);
      if (!path) return tl::unexpected(path.error());
      a.path_ = std::make_unique<JsonPath>(std::move(*path));
      break;
    }
    case Kind::kHeaderExists:
      if (spec.text.empty()) return bad("headerExists: header name must not be empty");
      break;
  }
  return a;
}

bool Assertion::Check(const ResponseView& response, JsonBodyCache& json, std::string* why) const {
  switch (spec_.kind) {
    case Kind::kStatusCode:
      if (response.status == spec_.status) return true;
      if (why) {
        *why = "status " + std::to_string(response.status) + ", expected " +
               std::to_string(spec_.status);
      }
      return false;
    case Kind::kResponseTime:
      if (response.elapsed <= spec_.max_time) return true;
      if (why) {
        *why = "response time " + FormatDuration(response.elapsed) + " over " +
               FormatDuration(spec_.max_time);
      }
      return false;
    case Kind::kBodyContains:
      if (response.body.find(spec_.text) != std::string_view::npos) return true;
      if (why) *why = "body does not contain " + Shown(spec_.text);
      return false;
    case Kind::kBodyMatches:
      if (RE2::PartialMatch(re2::StringPiece(response.body.data(), response.body.size()), *re_)) {
        return true;
      }
      if (why) *why = "body does not match " + Shown(spec_.text);
      return false;
    case Kind::kJsonPath: {
      if (!spec_.expected) {
        if (path_->Exists(response.body, json)) return true;
        if (why) {
          *why = json.state() == JsonBodyCache::State::kOk ? spec_.text + " not found"
                                                           : spec_.text + ": " + json.error();
        }
        return false;
      }
      thread_local std::string value;
      if (!path_->Evaluate(response.body, json, &value)) {
        if (why) {
          *why = json.state() == JsonBodyCache::State::kOk ? spec_.text + " not found"
                                                           : spec_.text + ": " + json.error();
        }
        return false;
      }
      if (value == *spec_.expected) return true;
      if (why) *why = spec_.text + " is " + Shown(value) + ", expected " + Shown(*spec_.expected);
      return false;
    }
    case Kind::kHeaderExists:
      if (FindHeader(response, spec_.text)) return true;
      if (why) *why = "no header " + spec_.text;
      return false;
  }
  return false;
}

std::string Assertion::Describe() const {
  switch (spec_.kind) {
    case Kind::kStatusCode:
      return "statusCode == " + std::to_string(spec_.status);
    case Kind::kResponseTime:
      return "responseTime <= " + FormatDuration(spec_.max_time);
    case Kind::kBodyContains:
      return "bodyContains " + Shown(spec_.text);
    case Kind::kBodyMatches:
      return "bodyMatches " + Shown(spec_.text);
    case Kind::kJsonPath:
      return spec_.expected ? "jsonPath " + spec_.text + " == " + Shown(*spec_.expected)
                            : "jsonPath " + spec_.text + " exists";
    case Kind::kHeaderExists:
      return "headerExists " + spec_.text;
  }
  return "?";
}

}  // namespace volley::engine::scenario
