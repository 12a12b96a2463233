#include "scenario/json_text.h"

#include <charconv>

namespace volley::engine::scenario {
namespace {

template <typename T>
void AssignNumber(T v, std::string* out) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->assign(buf, ec == std::errc() ? static_cast<size_t>(end - buf) : 0);
}

}  // namespace

void JsonValueText(const simdjson::dom::element& value, std::string* out) {
  using simdjson::dom::element_type;
  switch (value.type()) {
    case element_type::STRING: {
      std::string_view s;
      if (value.get_string().get(s) == simdjson::SUCCESS) {
        out->assign(s.data(), s.size());
      } else {
        out->clear();
      }
      return;
    }
    case element_type::INT64:
      AssignNumber(int64_t(value.get_int64().value_unsafe()), out);
      return;
    case element_type::UINT64:
      AssignNumber(uint64_t(value.get_uint64().value_unsafe()), out);
      return;
    case element_type::DOUBLE:
      AssignNumber(double(value.get_double().value_unsafe()), out);
      return;
    case element_type::BOOL:
      out->assign(value.get_bool().value_unsafe() ? "true" : "false");
      return;
    case element_type::NULL_VALUE:
      out->assign("null");
      return;
    case element_type::ARRAY:
    case element_type::OBJECT:
      *out = simdjson::minify(value);
      return;
  }
  out->clear();
}

}  // namespace volley::engine::scenario
