// A parsed JSON value as text, shared by JSON paths and JSON data files (engine internal;
// includes simdjson.h, so only .cc files include it).
#pragma once

#include <simdjson.h>

#include <string>

namespace volley::engine::scenario {

// Replaces `*out` with the text of `value`: a string unquoted (decoded), a number, boolean
// or null as JSON text, an object or array as minified JSON. Never throws.
void JsonValueText(const simdjson::dom::element& value, std::string* out);

}  // namespace volley::engine::scenario
