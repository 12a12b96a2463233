// The one URL parser: targets (TARGET_URL, --url, config.baseUrl) and the push outputs'
// endpoints all read http(s) URLs through ParseUrl.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "volley/common/result.h"

namespace volley {

// An absolute http or https URL.
struct Url {
  std::string scheme = "http";  // "http" or "https"
  std::string host;             // name or IP literal (IPv6 without brackets)
  uint16_t port = 80;
  std::string path = "/";  // path and query, always starting with '/'
  bool tls() const { return scheme == "https"; }
  // "host" or "host:port" as the Host header wants it (port omitted when default).
  std::string HostHeader() const;
  // "scheme://host[:port]" (port omitted when default).
  std::string Origin() const { return scheme + "://" + HostHeader(); }
};

// "http://host[:port][/path][?query]" or https; a "#fragment" is dropped, an IPv6 host is
// written in brackets. The scheme is matched in any case and stored lower-case. No user
// info, no white space in the host. Errors quote the text and show the expected form.
Result<Url> ParseUrl(std::string_view text);

// Appends `s` percent-encoded: RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~) are
// kept, every other byte becomes %XX (upper-case hex). Safe for a query component and for
// one path segment ('/' becomes %2F: a GCS object name, a Consul service ID).
void AppendPercentEncoded(std::string_view s, std::string* out);

}  // namespace volley
