// HTTP/1.1 lexical rules (RFC 9110 §5.6), shared by the client's response parser (engine),
// the target's request parser and the checks of configured header names: token
// characters, optional white space, field-value characters, list elements and ASCII
// case-insensitive comparison. Header-only, constexpr where it can be; no allocation.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace volley::http {

namespace detail {
constexpr std::array<bool, 256> MakeTokenTable() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 'a' + 'A'] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
inline constexpr std::array<bool, 256> kTokenChar = MakeTokenTable();
}  // namespace detail

// RFC 9110 tchar: the characters of methods and header names.
constexpr bool IsTokenChar(char c) { return detail::kTokenChar[static_cast<unsigned char>(c)]; }

// A non-empty run of tchar.
constexpr bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// OWS: space or horizontal tab.
constexpr bool IsOws(char c) { return c == ' ' || c == '\t'; }

// `s` without leading and trailing OWS.
constexpr std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

// A field value holds visible characters, obs-text, SP and HT; no other control character.
constexpr bool IsValidFieldValue(std::string_view v) {
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

constexpr char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// ASCII case-insensitive equality with `lower`, which must be lower-case (header names
// against a literal such as "content-length").
constexpr bool EqualsLower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (AsciiLower(s[i]) != lower[i]) return false;
  }
  return true;
}

// ASCII case-insensitive equality of two strings.
constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// The value of a hex digit, or -1.
constexpr int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Calls fn(element) for each OWS-trimmed comma-separated element of a header list, empty
// ones included (a list "a,,b" gives "a", "", "b"; an empty list gives one ""). Stops early
// when fn returns false; returns whether it went through the whole list.
template <typename Fn>
constexpr bool ForEachListElement(std::string_view list, Fn fn) {
  while (true) {
    const size_t comma = list.find(',');
    if (!fn(TrimOws(list.substr(0, comma)))) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace volley::http
