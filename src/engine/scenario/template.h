// ${name} substitution in request paths, query parameters, headers and bodies (engine
// internal).
//
// Syntax: "${name}" is replaced by the value of variable `name` (see IsValidVariableName).
// A '$' not followed by '{' is literal ("$5", "a$"). "$${" is an escaped "${": it renders
// as the two characters "${" and starts no reference (so "$${x}" renders "${x}"). Compile
// errors: an unterminated "${", an empty name, or a name with a character outside
// [A-Za-z0-9_.-] (or longer than 128), each with its offset in the text.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scenario/variables.h"
#include "volley/common/result.h"
#include "volley/common/url.h"
#include "volley/config/scenario.h"

namespace volley::engine::scenario {

// A compiled template. Immutable after Compile; Render is const and thread-safe.
class Template {
 public:
  // Parses `text`, interning every referenced name into `table` (which the Variables given
  // to Render must be indexed by; the table must outlive the template, which keeps a
  // pointer to it for names). Error (kInvalidArgument) e.g.
  // "unterminated '${' at 5 in '/users/${id'".
  static Result<Template> Compile(std::string_view text, VariableTable& table);

  // Appends the rendered text to `*out`. Returns true if every referenced variable was set;
  // otherwise returns false, stops at the first unset variable (leaving a partial render
  // in `*out`, which the caller should discard) and, if `undefined` is not null, points it
  // at that variable's name (valid while the table lives). Does not allocate beyond `*out`'s
  // growth.
  bool Render(const Variables& vars, std::string* out, std::string_view* undefined = nullptr) const;

  // Distinct referenced variable names, in order of first reference.
  std::vector<std::string> variables() const;
  // Distinct referenced ids, in order of first reference.
  const std::vector<VarId>& variable_ids() const { return ids_; }
  // True if the text has no reference (rendering it always gives the same text).
  bool is_literal() const { return ids_.empty(); }

 private:
  friend class QueryTemplate;
  // Render, percent-encoding every piece (literal and values) when `encode` is set.
  bool RenderImpl(const Variables& vars, std::string* out, std::string_view* undefined,
                  bool encode) const;

  struct Piece {
    std::string literal;  // used when !is_var
    VarId var = 0;
    bool is_var = false;
  };
  const VariableTable* table_ = nullptr;  // for names; not owned
  std::vector<Piece> pieces_;
  std::vector<VarId> ids_;
};

// AppendPercentEncoded (query components) is volley/common/url.h's.

// Query parameters of a step: compiled key/value templates, rendered as "?k=v&k2=v2" with
// both keys and values percent-encoded. Immutable after Compile; Render is thread-safe.
class QueryTemplate {
 public:
  // Errors as Template::Compile, prefixed with "queryParams.<key>: ".
  static Result<QueryTemplate> Compile(const std::vector<config::KeyValue>& params,
                                       VariableTable& table);

  // Appends the query to `*out`, a rendered path: "?" first if `*out` has no '?' yet, else
  // "&". Appends nothing when there are no parameters. Same return and `undefined`
  // contract as Template::Render.
  bool Render(const Variables& vars, std::string* out, std::string_view* undefined = nullptr) const;

  bool empty() const { return params_.empty(); }
  // Distinct referenced ids over every key and value.
  std::vector<VarId> variable_ids() const;

 private:
  std::vector<std::pair<Template, Template>> params_;
};

}  // namespace volley::engine::scenario
