// The value parsers of every setting: environment variables, flags, YAML scalars and the
// outputs' options all read booleans and numbers through these (durations and sizes:
// duration.h). Each parses the whole of its text (callers trim when they allow spaces);
// errors quote the text and say what was expected.
#pragma once

#include <cstdint>
#include <string_view>

#include "volley/common/result.h"

namespace volley {

// "true", "1", "yes", "on" / "false", "0", "no", "off", in any case; "" is false (a
// variable set to nothing is off).
Result<bool> ParseBool(std::string_view text);

// A decimal integer (optional '-'), e.g. "42".
Result<int64_t> ParseInt(std::string_view text);

// A decimal integer from `lo` to `hi`; the error names the range.
Result<int64_t> ParseIntInRange(std::string_view text, int64_t lo, int64_t hi);

// A finite decimal number, e.g. "1.5", "2e3".
Result<double> ParseNumber(std::string_view text);

}  // namespace volley
