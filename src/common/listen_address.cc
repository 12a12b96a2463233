#include "volley/common/listen_address.h"

#include <arpa/inet.h>

#include "volley/common/parse.h"
#include "volley/common/strings.h"

namespace volley {
namespace {

Result<ListenAddress> Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Invalid("invalid listen address '" + std::string(text) + "': " + why +
                   "; use HOST:PORT like 127.0.0.1:8080, :8080, 0.0.0.0:0 or [::1]:8080");
  };
  std::string_view s = Trim(text);
  const size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return bad("no ':PORT'");
  std::string_view host = s.substr(0, colon);
  std::string_view port_text = s.substr(colon + 1);
  const auto port = ParseIntInRange(port_text, 0, 65535);
  if (!port || port_text.starts_with('-'))
    return bad("port '" + std::string(port_text) + "' is not a number in 0-65535");
  ListenAddress out;
  out.port = static_cast<uint16_t>(*port);
  if (host.empty()) {
    out.host = "0.0.0.0";
    return out;
  }
  if (host == "localhost") {
    out.host = "127.0.0.1";
    return out;
  }
  unsigned char buf[sizeof(in6_addr)];
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad("unbalanced '['");
    std::string inner(host.substr(1, host.size() - 2));
    if (inet_pton(AF_INET6, inner.c_str(), buf) != 1) {
      return bad("'" + inner + "' is not an IPv6 address");
    }
    out.host = inner;
    return out;
  }
  std::string h(host);
  if (inet_pton(AF_INET, h.c_str(), buf) != 1) {
    return bad("host '" + h + "' is not an IPv4 address (IPv6 goes in brackets)");
  }
  out.host = h;
  return out;
}

}  // namespace volley
