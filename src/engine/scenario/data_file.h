// Data files of scenarios: CSV and JSON rows whose columns become variables (engine
// internal). Parsed once before the run; the result is immutable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "volley/common/result.h"
#include "volley/config/scenario.h"

namespace volley::engine::scenario {

// Rows of text values under named columns. Every row has columns.size() values.
struct DataTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

// Default bound of LoadDataFile.
inline constexpr uint64_t kDefaultMaxDataFileBytes = 64 * 1024 * 1024;

// RFC 4180 CSV: the first record is the header (column names: non-empty, distinct); fields
// separated by ','; a field starting with '"' is quoted: it may hold ',', CR, LF, and '""'
// for one '"'; records end with CRLF or LF; a final line ending is optional; empty lines
// outside quotes are skipped; a UTF-8 byte order mark before the header is dropped; a '"'
// inside an unquoted field is kept as is. Errors (kInvalidArgument) name `file` and the
// line: "users.csv:3: row has 3 fields, the header has 2", an unterminated quoted field
// (at the line where it opened), a character after a closing quote, no data rows.
Result<DataTable> ParseCsv(std::string_view text, std::string_view file);

// A JSON array of flat objects: columns are the union of the keys, in order of first
// appearance; a row without a key gets ""; values become text as JSON paths render them
// (strings unquoted, numbers/booleans/null as JSON text, nested values as minified JSON).
// Errors (kInvalidArgument) name `file`: not valid JSON, not an array, "element 3 is a
// string, expected an object", no rows, nesting deeper than 64.
Result<DataTable> ParseJsonRows(std::string_view text, std::string_view file);

// Reads `spec.path` (already resolved by the plan loader), or `spec.fallback_path` when
// that cannot be opened and a fallback is given, and parses it by `spec.format`.
// Errors: kIo if it cannot be read ("users.csv: cannot open: No such file or directory";
// with a fallback, the message names both places tried),
// kInvalidArgument if it is larger than `max_bytes` or does not parse.
Result<DataTable> LoadDataFile(const config::DataFile& spec,
                               uint64_t max_bytes = kDefaultMaxDataFileBytes);

}  // namespace volley::engine::scenario
