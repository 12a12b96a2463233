// Responses built once at start-up so that the hot path only picks a buffer and writes it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace volley::target {

// Which Connection header a response carries.
enum class ConnectionHeader : uint8_t {
  kNone = 0,       // HTTP/1.1 keep-alive: no header needed
  kClose = 1,      // "Connection: close": the server closes after this response
  kKeepAlive = 2,  // "Connection: keep-alive": an HTTP/1.0 client asked to keep the connection
};

// A complete response. Immutable once built; shared read-only by all worker threads.
struct PreparedResponse {
  std::string bytes;      // status line, headers and, unless it is large, the body
  size_t head_size = 0;   // bytes of status line and headers: what a HEAD request gets
  std::string_view tail;  // a large body, stored once by the table, sent after `bytes`
  size_t Size(bool head_only) const { return head_only ? head_size : bytes.size() + tail.size(); }
};

// "OK", "Service Unavailable", ...; "Unknown" for codes without a registered phrase.
std::string_view ReasonPhrase(int code);

// The bytes of an HTTP/1.1 response with `body` (omitted, with its Content-Length, for 204
// and 304). `extra_headers` are complete "Name: value\r\n" lines. For rare responses only.
std::string BuildResponse(int code, std::string_view content_type, std::string_view body,
                          ConnectionHeader connection, std::string_view extra_headers = {});

// The body the target serves: "Hello, world\n" repeated and cut to `size` bytes.
std::string MakeBody(size_t size);

// The responses for the status mix, in the three Connection-header variants.
// Immutable after construction, so thread-safe.
class ResponseTable {
 public:
  // Bodies up to this size are stored inline in each response (one contiguous write).
  static constexpr size_t kInlineBodyLimit = 64 * 1024;

  // Builds a response for each code in `codes` with a body of `body_size` bytes, or with
  // `fixed_body` when it is not empty (served as application/json when it starts with '{'
  // or '[', text/plain otherwise).
  ResponseTable(const std::vector<int>& codes, size_t body_size, std::string_view fixed_body = {});

  // The response for `code`, or nullptr when `code` was not in the constructor's list.
  const PreparedResponse* Find(int code, ConnectionHeader connection) const;

 private:
  std::string large_body_;  // the shared body when it exceeds kInlineBodyLimit
  std::vector<int> codes_;
  std::vector<std::array<PreparedResponse, 3>> responses_;  // parallel to codes_
};

}  // namespace volley::target
