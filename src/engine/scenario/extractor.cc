#include "scenario/extractor.h"

#include "scenario/cookie_jar.h"
#include "scenario/pattern.h"

namespace volley::engine::scenario {

using Kind = config::Extraction::Kind;

Extractor::Extractor(Extractor&&) noexcept = default;
Extractor& Extractor::operator=(Extractor&&) noexcept = default;
Extractor::~Extractor() = default;

Result<Extractor> Extractor::Compile(const config::Extraction& spec, VariableTable& table) {
  if (!IsValidVariableName(spec.name)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "extract: invalid variable name '" + spec.name.substr(0, 200) +
                         "': use 1 to 128 letters, digits, '_', '-' and '.'");
  }
  if (spec.expr.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "extract " + spec.name + ": empty expression");
  }
  Extractor e;
  e.kind_ = spec.kind;
  e.name_ = spec.name;
  e.expr_ = spec.expr;
  switch (spec.kind) {
    case Kind::kJsonPath: {
      auto path = JsonPath::Compile(spec.expr);
      if (!path) return tl::unexpected(path.error());
      e.path_ = std::make_unique<JsonPath>(std::move(*path));
      break;
    }
    case Kind::kRegex: {
      auto re = CompileRegex(spec.expr, "regex", 1);
      if (!re) return tl::unexpected(re.error());
      e.re_ = std::move(*re);
      break;
    }
    case Kind::kHeader:
    case Kind::kCookie:
      break;
  }
  e.var_ = table.Intern(spec.name);
  return e;
}

bool Extractor::Apply(const ResponseView& response, JsonBodyCache& json, std::string* out) const {
  switch (kind_) {
    case Kind::kJsonPath:
      return path_->Evaluate(response.body, json, out);
    case Kind::kRegex: {
      re2::StringPiece group;
      if (!RE2::PartialMatch(re2::StringPiece(response.body.data(), response.body.size()), *re_,
                             &group)) {
        return false;
      }
      out->assign(group.data() == nullptr ? "" : std::string_view(group.data(), group.size()));
      return true;
    }
    case Kind::kHeader: {
      auto v = FindHeader(response, expr_);
      if (!v) return false;
      out->assign(*v);
      return true;
    }
    case Kind::kCookie: {
      for (const auto& [name, value] : response.headers) {
        if (!EqualsIgnoreCase(name, "set-cookie")) continue;
        SetCookie sc;
        if (ParseSetCookie(value, &sc) && sc.name == expr_) {
          out->assign(sc.value);
          return true;
        }
      }
      return false;
    }
  }
  return false;
}

bool Extractor::ApplyTo(const ResponseView& response, JsonBodyCache& json, std::string* scratch,
                        Variables* vars) const {
  if (!Apply(response, json, scratch)) return false;
  vars->Set(var_, *scratch);
  return true;
}

std::string Extractor::Describe() const {
  const char* kind = "jsonPath";
  switch (kind_) {
    case Kind::kJsonPath:
      kind = "jsonPath";
      break;
    case Kind::kRegex:
      kind = "regex";
      break;
    case Kind::kHeader:
      kind = "header";
      break;
    case Kind::kCookie:
      kind = "cookie";
      break;
  }
  return std::string(kind) + " " + expr_ + " -> " + name_;
}

}  // namespace volley::engine::scenario
