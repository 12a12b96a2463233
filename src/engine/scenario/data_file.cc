#include "scenario/data_file.h"

#include <simdjson.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "scenario/json_text.h"

namespace volley::engine::scenario {
namespace {

tl::unexpected<Error> Invalid(std::string message) {
  return tl::unexpected<Error>(Error{ErrorCode::kInvalidArgument, std::move(message)});
}

std::string Where(std::string_view file, size_t line) {
  return std::string(file) + ":" + std::to_string(line) + ": ";
}

}  // namespace

Result<DataTable> ParseCsv(std::string_view text, std::string_view file) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  DataTable table;
  std::vector<std::string> record;
  std::string field;
  size_t line = 1;  // current line of the text
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    // One record.
    size_t record_line = line;
    if (text[i] == '\n' || (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n')) {
      i += text[i] == '\r' ? 2 : 1;  // an empty line
      ++line;
      continue;
    }
    record.clear();
    bool end_of_record = false;
    while (!end_of_record) {
      field.clear();
      if (i < n && text[i] == '"') {
        size_t open_line = line;
        ++i;
        bool closed = false;
        while (i < n) {
          char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field.push_back('"');
              i += 2;
              continue;
            }
            closed = true;
            ++i;
            break;
          }
          if (c == '\n') ++line;
          field.push_back(c);
          ++i;
        }
        if (!closed) return Invalid(Where(file, open_line) + "unterminated quoted field");
        if (i < n && text[i] != ',' && text[i] != '\n' &&
            !(text[i] == '\r' && i + 1 < n && text[i + 1] == '\n')) {
          return Invalid(Where(file, line) +
                         "unexpected character after a closing quote "
                         "(a '\"' inside a quoted field is written '\"\"')");
        }
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n' &&
               !(text[i] == '\r' && i + 1 < n && text[i + 1] == '\n')) {
          field.push_back(text[i++]);
        }
      }
      record.push_back(field);
      if (i < n && text[i] == ',') {
        ++i;
      } else {
        if (i < n) {  // the line ending
          i += text[i] == '\r' ? 2 : 1;
          ++line;
        }
        end_of_record = true;
      }
    }
    if (table.columns.empty()) {
      std::unordered_map<std::string_view, size_t> seen;
      for (size_t c = 0; c < record.size(); ++c) {
        if (record[c].empty()) {
          return Invalid(Where(file, record_line) + "header column " + std::to_string(c + 1) +
                         " has no name");
        }
        if (!seen.emplace(record[c], c).second) {
          return Invalid(Where(file, record_line) + "duplicate column '" + record[c] + "'");
        }
      }
      table.columns = record;
      continue;
    }
    if (record.size() != table.columns.size()) {
      return Invalid(Where(file, record_line) + "row has " + std::to_string(record.size()) +
                     " fields, the header has " + std::to_string(table.columns.size()));
    }
    table.rows.push_back(record);
  }
  if (table.columns.empty()) return Invalid(std::string(file) + ": empty CSV file: no header");
  if (table.rows.empty()) return Invalid(std::string(file) + ": no data rows after the header");
  return table;
}

Result<DataTable> ParseJsonRows(std::string_view text, std::string_view file) {
  constexpr size_t kMaxDepth = 64;
  const std::string prefix = std::string(file) + ": ";
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.allocate(text.size() + 1, kMaxDepth); err != simdjson::SUCCESS) {
    return Invalid(prefix + "cannot parse: " + simdjson::error_message(err));
  }
  if (auto err = parser.parse(text.data(), text.size(), true).get(root); err != simdjson::SUCCESS) {
    return Invalid(prefix + "not valid JSON: " + simdjson::error_message(err));
  }
  simdjson::dom::array array;
  if (root.get_array().get(array) != simdjson::SUCCESS) {
    return Invalid(prefix + "expected a JSON array of objects");
  }
  DataTable table;
  std::unordered_map<std::string, size_t> index;
  size_t element = 0;
  for (simdjson::dom::element e : array) {  // pass 1: columns
    simdjson::dom::object obj;
    if (e.get_object().get(obj) != simdjson::SUCCESS) {
      const char* type = "a value";
      switch (e.type()) {
        case simdjson::dom::element_type::ARRAY:
          type = "an array";
          break;
        case simdjson::dom::element_type::INT64:
        case simdjson::dom::element_type::UINT64:
        case simdjson::dom::element_type::DOUBLE:
          type = "a number";
          break;
        case simdjson::dom::element_type::STRING:
          type = "a string";
          break;
        case simdjson::dom::element_type::BOOL:
          type = "a boolean";
          break;
        case simdjson::dom::element_type::NULL_VALUE:
          type = "null";
          break;
        case simdjson::dom::element_type::OBJECT:
          break;
      }
      return Invalid(prefix + "element " + std::to_string(element) + " is " + type +
                     ", expected an object");
    }
    for (simdjson::dom::key_value_pair field : obj) {
      std::string key(field.key);
      if (index.emplace(key, table.columns.size()).second) table.columns.push_back(key);
    }
    ++element;
  }
  if (element == 0) return Invalid(prefix + "no rows: the array is empty");
  table.rows.reserve(element);
  std::string value;
  for (simdjson::dom::element e : array) {  // pass 2: values
    std::vector<std::string> row(table.columns.size());
    std::vector<bool> filled(table.columns.size(), false);
    simdjson::dom::object obj;
    if (e.get_object().get(obj) != simdjson::SUCCESS) continue;  // checked in pass 1
    for (simdjson::dom::key_value_pair field : obj) {
      size_t c = index.find(std::string(field.key))->second;
      if (filled[c]) continue;  // a repeated key: the first one counts
      filled[c] = true;
      JsonValueText(field.value, &value);
      row[c] = value;
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

Result<DataTable> LoadDataFile(const config::DataFile& spec, uint64_t max_bytes) {
  struct Closer {
    void operator()(FILE* f) const { std::fclose(f); }
  };
  std::string path = spec.path;
  std::unique_ptr<FILE, Closer> f(std::fopen(path.c_str(), "rb"));
  if (!f && !spec.fallback_path.empty()) {
    const std::string first = std::strerror(errno);
    path = spec.fallback_path;
    f.reset(std::fopen(path.c_str(), "rb"));
    if (!f) {
      return MakeError(ErrorCode::kIo, "cannot open '" + spec.fallback_path +
                                           "': not beside the plan (" + spec.path + ": " + first +
                                           ") nor from the working directory (" +
                                           spec.fallback_path + ": " + std::strerror(errno) +
                                           "); give a path relative to the plan file");
    }
  }
  if (!f) {
    return MakeError(ErrorCode::kIo, path + ": cannot open: " + std::strerror(errno));
  }
  std::string text;
  char buf[64 * 1024];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f.get())) > 0) {
    if (text.size() + got > max_bytes) {
      return MakeError(ErrorCode::kInvalidArgument, path + ": larger than the data file limit of " +
                                                        std::to_string(max_bytes) + " bytes");
    }
    text.append(buf, got);
  }
  if (std::ferror(f.get())) {
    return MakeError(ErrorCode::kIo, path + ": read failed: " + std::strerror(errno));
  }
  return spec.format == config::DataFile::Format::kCsv ? ParseCsv(text, path)
                                                       : ParseJsonRows(text, path);
}

}  // namespace volley::engine::scenario
