// Quoting user text in error messages and reports (engine internal).
#pragma once

#include <string>
#include <string_view>

namespace volley::engine::scenario {

// `text` between `quote` characters, cut to `max` characters with "..." after the cut, so
// that a huge pattern or body never floods a message: Excerpt("abc", '\'') is "'abc'".
inline std::string Excerpt(std::string_view text, char quote, size_t max = 100) {
  std::string out(1, quote);
  out.append(text.substr(0, max));
  if (text.size() > max) out += "...";
  out.push_back(quote);
  return out;
}

}  // namespace volley::engine::scenario
