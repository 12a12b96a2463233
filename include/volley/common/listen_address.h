// Listening addresses ("127.0.0.1:8080", ":9090", "[::1]:0") shared by every server volley
// runs: the built-in target, the metrics endpoint, later the control and cluster ports.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "volley/common/result.h"

namespace volley {

// A numeric address to listen on. `host` is an IPv4 or IPv6 literal (no brackets).
struct ListenAddress {
  std::string host;
  uint16_t port = 0;
};

// "127.0.0.1:8080", ":8080" (all IPv4 interfaces), "0.0.0.0:0" (port 0 = ephemeral),
// "[::1]:8080", "localhost:8080" (= 127.0.0.1).
Result<ListenAddress> ParseListenAddress(std::string_view text);

}  // namespace volley
