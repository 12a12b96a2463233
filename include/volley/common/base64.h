// Base64 (RFC 4648 §4) and base64url without padding (§5), for Consul KV values and the
// JSON Web Tokens of Google's service-account grant. Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace volley {

std::string Base64Encode(std::string_view bytes);     // with '=' padding
std::string Base64UrlEncode(std::string_view bytes);  // '-' '_', no padding
// Either alphabet, padding optional; nullopt on any other character or a bad length.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace volley
