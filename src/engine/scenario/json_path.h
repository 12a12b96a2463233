// JSON paths over response bodies, and the per-thread parsed-body cache (engine internal).
//
// Supported syntax (a subset of Goessner's JSONPath, enough for extraction):
//   $                 the whole document
//   .name  ['name']  ["name"]   an object member (quoted names take \\, \' and \" escapes;
//                     a dotted name runs to the next '.' or '[' and may not be empty)
//   [N]               an array element, N a decimal index from 0
//   [*]  .*           every element of an array, or every member value of an object
// Evaluation returns the FIRST match in document order: `$.items[*].id` is the id of the
// first item that has one. Recursive descent (`..`), filters and slices are compile errors.
// The result as text: strings unquoted (decoded), numbers, booleans and null as JSON text
// (1, 2.5, 1e+100, true, null), objects and arrays as minified JSON.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "volley/common/result.h"

namespace volley::engine::scenario {

// The body of the current response, parsed at most once however many JSON paths look at it.
// Owns one simdjson parser whose buffers are reused, so a warm cache does not allocate for
// bodies no larger than before.
//
// Usage: one per worker thread; Reset() when a new response arrives, then pass it with the
// response body to every JsonPath. Thread-safety: none (confined to its thread).
class JsonBodyCache {
 public:
  struct Limits {
    size_t max_body_bytes = 8 * 1024 * 1024;  // larger bodies are "not JSON" (no match)
    size_t max_depth = 256;                   // deeper nesting is "not JSON"
  };
  enum class State : uint8_t { kUnparsed, kOk, kTooLarge, kInvalid };

  JsonBodyCache();
  explicit JsonBodyCache(const Limits& limits);
  ~JsonBodyCache();
  JsonBodyCache(const JsonBodyCache&) = delete;
  JsonBodyCache& operator=(const JsonBodyCache&) = delete;

  // Forgets the last parse; call once per response, before any JsonPath sees it.
  void Reset();
  // Parses `body` unless it was already parsed since Reset() (the same data pointer and
  // size; a different body is parsed anew). Returns true if the body is valid JSON within
  // the limits. Never throws.
  bool Parse(std::string_view body);
  State state() const { return state_; }
  // Why the last Parse failed, e.g. "body is not valid JSON: TAPE_ERROR: ..."; empty if ok.
  const std::string& error() const { return error_; }
  // How many bodies were actually parsed since construction (cache hits are not counted).
  uint64_t parse_count() const { return parse_count_; }

 private:
  friend class JsonPath;
  struct Impl;  // the simdjson parser and the parsed root; hides simdjson.h from includers
  std::unique_ptr<Impl> impl_;
  Limits limits_;
  State state_ = State::kUnparsed;
  const char* body_data_ = nullptr;
  size_t body_size_ = 0;
  std::string error_;
  uint64_t parse_count_ = 0;
};

// A compiled JSON path. Immutable after Compile; const methods are thread-safe.
class JsonPath {
 public:
  static constexpr size_t kMaxText = 4096;    // longest accepted path text
  static constexpr size_t kMaxSegments = 64;  // most steps after '$'

  // Errors (kInvalidArgument) are positioned by 0-based offset, e.g.
  // "jsonPath '$.a[': expected an index, '*' or a quoted name at 4".
  static Result<JsonPath> Compile(std::string_view text);

  // Evaluates on `body` (parsed through `cache`). On a match, replaces `*out` with the
  // result text and returns true. Returns false, leaving `*out` untouched, when nothing
  // matches or the body is not JSON (see cache.state()).
  bool Evaluate(std::string_view body, JsonBodyCache& cache, std::string* out) const;
  // True if the path matches something (possibly null) in `body`.
  bool Exists(std::string_view body, JsonBodyCache& cache) const;

  const std::string& text() const { return text_; }

 private:
  struct Segment {
    enum class Kind : uint8_t { kKey, kIndex, kWildcard };
    Kind kind = Kind::kKey;
    std::string key;
    uint64_t index = 0;
  };
  std::string text_;
  std::vector<Segment> segments_;
};

}  // namespace volley::engine::scenario
