// A loopback TCP port for a process a test starts later (a `volley node` whose cluster port
// must be listed in every member's CLUSTER_NODES before any of them runs). Header-only.
//
// The port comes from below the kernel's ephemeral range (net.ipv4.ip_local_port_range):
// a port handed out by bind(0) is in that range, and so is the local port of every
// outgoing connection, so a port learnt that way can be taken by any connection made before
// the process binds it (seen with 20 nodes' gRPC channels: "Address already in use"). Below
// the range only an explicit bind can take it. Candidates start at a per-process random
// offset, and each is checked with a bind before it is returned, so parallel tests do not
// pick the same ports.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <random>
#include <stdexcept>

namespace volley::testing {

inline uint16_t UnusedLoopbackPort() {
  unsigned ephemeral_low = 32768, ephemeral_high = 60999;
  if (std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range"); range) {
    range >> ephemeral_low >> ephemeral_high;
  }
  // Below the ephemeral range, above the well-known and common service ports.
  const unsigned low = 10000;
  const unsigned high = ephemeral_low > low + 1000 ? ephemeral_low - 1 : 65535;
  const unsigned span = high - low + 1;
  static std::atomic<unsigned> next{std::random_device{}() % span};
  for (unsigned tries = 0; tries < span; ++tries) {
    const uint16_t port = static_cast<uint16_t>(low + next.fetch_add(1) % span);
    if (port >= ephemeral_low && port <= ephemeral_high) continue;
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const bool free = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    if (free) return port;
  }
  throw std::runtime_error("no unused loopback port below the ephemeral range");
}

// The name the tests use.
inline uint16_t FreeLoopbackPort() { return UnusedLoopbackPort(); }

}  // namespace volley::testing
