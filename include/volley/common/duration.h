// Parsing of the duration and size strings that plans, flags and environment use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "volley/common/clock.h"
#include "volley/common/result.h"

namespace volley {

// "500ms", "30s", "5m", "2h", "1d", "1.5s", "250us", or a bare integer meaning seconds.
// Errors name the bad text and the accepted forms.
Result<Nanos> ParseDuration(std::string_view text);

// Like ParseDuration, but a bare number means milliseconds (the plan's thinkTime form).
Result<Nanos> ParseDurationMillisDefault(std::string_view text);

// "512", "4k", "4KiB", "1m", "1MB" (binary multiples: k = 1024).
Result<uint64_t> ParseSize(std::string_view text);

// "1.5s", "250ms", "3m20s" style rendering for humans.
std::string FormatDuration(Nanos d);

}  // namespace volley
