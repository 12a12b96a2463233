// Options of `volley target`, the built-in HTTP/1.1 server, and the parsers for its flags.
// The CLI turns flags into a TargetOptions with the Parse* helpers below; TargetServer::Start
// checks the whole value again with ValidateTargetOptions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "volley/common/clock.h"
#include "volley/common/listen_address.h"
#include "volley/common/result.h"

namespace volley::target {

// One entry of the status mix: answer `code` in `weight` parts of every sum-of-weights.
struct StatusWeight {
  int code = 200;
  uint32_t weight = 1;
};

// Latency added to every response: fixed when min == max, else uniform in [min, max].
struct LatencyRange {
  Nanos min{0};
  Nanos max{0};
};

// Stall windows [k*period, k*period + duration) measured from the server's start.
struct StallSpec {
  Nanos duration{0};
  Nanos period{0};
};

// Limits that ValidateTargetOptions enforces.
inline constexpr size_t kMaxTargetBodySize = size_t{1} << 30;  // 1 GiB
inline constexpr int kMaxTargetThreads = 256;
inline constexpr uint32_t kMaxStatusWeight = 1'000'000;

struct TargetOptions {
  std::string listen = "127.0.0.1:8080";  // see ParseListenAddress; port 0 = ephemeral
  int threads = 0;                        // 0 = std::thread::hardware_concurrency()
  Nanos latency_min{0};                   // see LatencyRange
  Nanos latency_max{0};
  std::vector<StatusWeight> status_mix;  // empty = always 200
  Nanos stall_duration{0};               // see StallSpec; both 0 = never stall
  Nanos stall_period{0};
  size_t body_size = 13;  // 13 = "Hello, world\n"; other sizes repeat that text
  std::string body;       // a fixed body instead (JSON when it starts with '{' or '[')
};

// "20ms" (fixed) or "10ms-30ms" (uniform range), each side a volley duration (ParseDuration:
// a bare number means seconds). Errors name the text and the accepted forms.
Result<LatencyRange> ParseLatency(std::string_view text);

// "200:90,503:10": comma-separated CODE:WEIGHT pairs; codes 200-599, each at most once;
// weights 1..kMaxStatusWeight. Spaces around items are ignored.
Result<std::vector<StatusWeight>> ParseStatusMix(std::string_view text);

// "1s/5s": stall for DURATION every PERIOD, with 0 < DURATION < PERIOD.
Result<StallSpec> ParseStall(std::string_view text);

// Checks a whole TargetOptions (the listen address, threads, latency, mix, stall and body
// size limits). Returns the first problem found, naming the field.
Result<void> ValidateTargetOptions(const TargetOptions& options);

}  // namespace volley::target
