#include "volley/common/url.h"

#include "volley/common/parse.h"
#include "volley/common/strings.h"

namespace volley {

std::string Url::HostHeader() const {
  const bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return default_port ? h : h + ":" + std::to_string(port);
}

Result<Url> ParseUrl(std::string_view text) {
  std::string_view s = Trim(text);
  auto bad = [&](const std::string& why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid URL '" + std::string(text) + "': " + why +
                         " (expected http://host[:port]/path or https://...)");
  };
  Url url;
  size_t scheme_end = s.find("://");
  if (scheme_end == std::string_view::npos) return bad("missing scheme");
  url.scheme = ToLower(s.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") return bad("scheme must be http or https");
  url.port = url.tls() ? 443 : 80;
  s.remove_prefix(scheme_end + 3);
  size_t path_start = s.find_first_of("/?#");
  std::string_view authority = s.substr(0, path_start);
  url.path = path_start == std::string_view::npos ? "/" : std::string(s.substr(path_start));
  if (!url.path.empty() && url.path[0] != '/') url.path = "/" + url.path;
  if (size_t frag = url.path.find('#'); frag != std::string::npos) url.path.resize(frag);
  if (authority.find('@') != std::string_view::npos) return bad("user info is not supported");
  for (char c : authority) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return bad("the host must not contain spaces or control characters");
    }
  }
  std::string_view port_text;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unclosed '[' in IPv6 address");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return bad("junk after IPv6 address");
      port_text = rest.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) return bad("missing host");
  if (!port_text.empty()) {
    auto port = ParseIntInRange(port_text, 1, 65535);
    if (!port) return bad("port must be 1-65535");
    url.port = static_cast<uint16_t>(*port);
  }
  return url;
}

void AppendPercentEncoded(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out->push_back(ch);
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xF]);
    }
  }
}

}  // namespace volley
