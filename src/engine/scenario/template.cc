#include "scenario/template.h"

#include <algorithm>

#include "scenario/excerpt.h"

namespace volley::engine::scenario {
namespace {

std::string Quoted(std::string_view text) { return Excerpt(text, '\'', 80); }

}  // namespace

Result<Template> Template::Compile(std::string_view text, VariableTable& table) {
  Template t;
  t.table_ = &table;
  std::string literal;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c != '$') {
      literal.push_back(c);
      ++i;
      continue;
    }
    if (text.substr(i, 3) == "$${") {  // escaped "${"
      literal += "${";
      i += 3;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {  // a lone '$' is literal
      literal.push_back(c);
      ++i;
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "unterminated '${' at " + std::to_string(i) + " in " + Quoted(text));
    }
    std::string_view name = text.substr(i + 2, close - i - 2);
    if (name.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "empty variable name '${}' at " + std::to_string(i) + " in " + Quoted(text));
    }
    if (!IsValidVariableName(name)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "invalid variable name " + Quoted(name) + " at " + std::to_string(i + 2) +
                           " in " + Quoted(text) +
                           ": use letters, digits, '_', '-' and '.' (at most " +
                           std::to_string(kMaxVariableName) + ")");
    }
    if (!literal.empty()) {
      t.pieces_.push_back(Piece{std::move(literal), 0, false});
      literal.clear();
    }
    VarId id = table.Intern(name);
    t.pieces_.push_back(Piece{{}, id, true});
    if (std::find(t.ids_.begin(), t.ids_.end(), id) == t.ids_.end()) t.ids_.push_back(id);
    i = close + 1;
  }
  if (!literal.empty()) t.pieces_.push_back(Piece{std::move(literal), 0, false});
  return t;
}

bool Template::RenderImpl(const Variables& vars, std::string* out, std::string_view* undefined,
                          bool encode) const {
  for (const Piece& piece : pieces_) {
    const std::string* text = &piece.literal;
    if (piece.is_var) {
      text = vars.Get(piece.var);
      if (text == nullptr) {
        if (undefined != nullptr) *undefined = table_->Name(piece.var);
        return false;
      }
    }
    if (encode) {
      AppendPercentEncoded(*text, out);
    } else {
      out->append(*text);
    }
  }
  return true;
}

bool Template::Render(const Variables& vars, std::string* out, std::string_view* undefined) const {
  return RenderImpl(vars, out, undefined, false);
}

std::vector<std::string> Template::variables() const {
  std::vector<std::string> names;
  names.reserve(ids_.size());
  for (VarId id : ids_) names.push_back(table_->Name(id));
  return names;
}

Result<QueryTemplate> QueryTemplate::Compile(const std::vector<config::KeyValue>& params,
                                             VariableTable& table) {
  QueryTemplate q;
  q.params_.reserve(params.size());
  for (const auto& [key, value] : params) {
    auto k = Template::Compile(key, table);
    if (!k) return MakeError(k.error().code, "queryParams." + key + ": " + k.error().message);
    auto v = Template::Compile(value, table);
    if (!v) return MakeError(v.error().code, "queryParams." + key + ": " + v.error().message);
    q.params_.emplace_back(std::move(*k), std::move(*v));
  }
  return q;
}

bool QueryTemplate::Render(const Variables& vars, std::string* out,
                           std::string_view* undefined) const {
  for (size_t i = 0; i < params_.size(); ++i) {
    if (i == 0) {
      out->push_back(out->find('?') == std::string::npos ? '?' : '&');
    } else {
      out->push_back('&');
    }
    if (!params_[i].first.RenderImpl(vars, out, undefined, true)) return false;
    out->push_back('=');
    if (!params_[i].second.RenderImpl(vars, out, undefined, true)) return false;
  }
  return true;
}

std::vector<VarId> QueryTemplate::variable_ids() const {
  std::vector<VarId> ids;
  for (const auto& [k, v] : params_) {
    for (const auto* t : {&k, &v}) {
      for (VarId id : t->variable_ids()) {
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
      }
    }
  }
  return ids;
}

}  // namespace volley::engine::scenario
