// libFuzzer target for the scenario data-file parsers (src/engine/scenario/data_file.h).
//
// Input: one control byte (bit 0: JSON rows, else CSV), then the file's text. Checks that a
// parsed table is rectangular and non-empty, and that every error has a message naming
// the file.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "scenario/data_file.h"

using volley::engine::scenario::DataTable;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto table = (data[0] & 1) ? volley::engine::scenario::ParseJsonRows(text, "f")
                             : volley::engine::scenario::ParseCsv(text, "f");
  if (!table) {
    if (table.error().message.rfind("f", 0) != 0) std::abort();
    return 0;
  }
  if (table->rows.empty()) std::abort();
  for (const auto& row : table->rows) {
    if (row.size() != table->columns.size()) std::abort();
  }
  return 0;
}
