// Incremental HTTP/1.1 response parser for the load engine's client connections (engine
// internal). It is on the hot path: once warm it never allocates, and unless capture is
// turned on it never copies a byte of the response, except a header line split across two
// reads, which it keeps in a small reusable buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace volley::engine {

// Why a response was rejected. kNone while parsing is fine.
enum class ParseError : uint8_t {
  kNone = 0,
  kBadStatusLine,     // not "HTTP/1.x 3DIGIT [reason]"
  kBadHeader,         // a field line without a token name and a colon, or a bad fold
  kHeaderTooLarge,    // header block (or trailer section) over Limits::max_header_bytes
  kTooManyHeaders,    // more field lines than Limits::max_headers
  kBadContentLength,  // not digits, overflows 64 bits, or conflicting values
  kBadChunk,          // bad chunk size (not hex, overflow), extension or CRLF after data
  kBodyTooLarge,      // declared or received body over Limits::max_body_bytes
  kTruncated,         // the connection closed in the middle of the response
  kNoResponse,        // the connection closed before any byte of the response arrived
};

// A static English description, e.g. "invalid or conflicting Content-Length". Never null.
const char* ErrorText(ParseError error);

// Parses one HTTP/1.1 response at a time from bytes that arrive in arbitrary pieces.
//
// Usage per response: Reset(); then Feed() every read until it returns kDone or kError,
// calling OnEof() if the connection closes first. On kDone, the bytes Feed() did not
// consume belong to the next (pipelined) response: the caller keeps them and feeds them
// after the next Reset(). On kError the connection is unusable: close it.
//
// Framing follows RFC 9112 §6.3: responses to HEAD, 1xx, 204 and 304 have no body;
// interim 1xx responses (100 Continue, 103 Early Hints) are skipped and the next one is
// parsed (101 Switching Protocols is final, with no body, and not keep-alive);
// Transfer-Encoding wins over Content-Length; a body with neither ends at close.
// Field values are trimmed but not otherwise validated; obsolete line folding is joined with
// a space. Trailers are checked for syntax and skipped.
//
// Memory is bounded whatever the input: by max_header_bytes for the split-line buffer and
// the captured fields, and by the capture size for the body. Buffers keep their capacity
// across Reset(), so a warm parser does not allocate.
//
// Thread-safety: none. A parser belongs to one connection and is used on its thread only.
class ResponseParser {
 public:
  enum class Status : uint8_t {
    kNeedMore,  // the response is incomplete: feed more bytes (or call OnEof)
    kDone,      // the response is complete; the accessors describe it
    kError,     // the response is malformed or over a limit; see error()
  };

  struct Limits {
    // Per header block (status line, fields, blank line), and per trailer section.
    size_t max_header_bytes = 64 * 1024;
    // Field lines per header block (and per trailer section).
    size_t max_headers = 128;
    // Decoded body bytes (the sum of chunk sizes when chunked).
    uint64_t max_body_bytes = UINT64_MAX;
  };

  // Default limits. The parser starts Reset() for a response to a non-HEAD request.
  ResponseParser();
  explicit ResponseParser(const Limits& limits);

  // Prepares for the next response; `response_to_head` says the request was HEAD, so the
  // response has no body whatever its headers say. Keeps the capture settings and the
  // capacity of every buffer.
  void Reset(bool response_to_head = false);

  // Parses up to `len` bytes of `data` (borrowed for the call only; `data` may be null when
  // `len` is 0). `*consumed` receives how many bytes belong to this response: all of them
  // on kNeedMore, those up to the end of the response on kDone (the rest is the next
  // response's), those examined before the fault on kError. Once kDone or kError was
  // returned, further calls return the same status and consume nothing until Reset().
  Status Feed(const char* data, size_t len, size_t* consumed);

  // The peer closed the connection (or the read side ended). Completes a body delimited by
  // close (kDone); any other incomplete response fails with kTruncated, or with kNoResponse
  // if not a byte of it arrived (a keep-alive connection the server closed while idle,
  // which the caller may retry on a new connection). Returns the current status otherwise.
  Status OnEof();

  // Opt-in capture for the scenario engine (off by default: the load-test fast path).
  // `headers`: keep the field names and values of the final response (not of interim 1xx
  // responses, not trailers). `max_body_capture`: keep up to that many body bytes (decoded
  // from chunked); the rest is counted only. Call it between responses.
  void set_capture(bool headers, size_t max_body_capture);

  // --- Results. Valid once headers_complete() (status, version, headers) or kDone (body).
  int status_code() const { return status_code_; }
  // 0 for HTTP/1.0, 1 for HTTP/1.1 (any digit 0-9 is accepted).
  int http_minor() const { return minor_; }
  // Whether the connection may carry another request after this response: HTTP/1.1
  // unless "Connection: close", HTTP/1.0 only with "Connection: keep-alive"; never for a
  // body delimited by close, a 101, an error, or Transfer-Encoding with Content-Length or in
  // an HTTP/1.0 response.
  bool keep_alive() const { return keep_alive_; }
  // True once the final (non-1xx) header block has been parsed.
  bool headers_complete() const { return headers_complete_; }
  bool done() const { return state_ == State::kDone; }
  ParseError error() const { return error_; }
  // Decoded body bytes received so far (chunk framing and trailers excluded).
  uint64_t body_bytes() const { return body_bytes_; }
  // Bytes of complete header lines so far: status lines, fields and blank lines, including
  // those of interim 1xx responses.
  uint64_t header_bytes() const { return header_bytes_; }
  // Every byte consumed for this response, framing and trailers included.
  uint64_t total_bytes() const { return total_bytes_; }
  const Limits& limits() const { return limits_; }

  // --- Capture (empty unless enabled with set_capture). Views stay valid until the next
  // Reset() or Feed().
  size_t header_count() const { return captured_.size(); }
  // In arrival order; requires i < header_count().
  std::string_view header_name(size_t i) const;
  std::string_view header_value(size_t i) const;
  // The value of the first field named `name` (ASCII case-insensitive), or nullopt.
  std::optional<std::string_view> FindHeader(std::string_view name) const;
  std::string_view body() const { return body_; }
  // True if the body had more bytes than the capture kept.
  bool body_capture_truncated() const { return body_truncated_; }

 private:
  enum class State : uint8_t {
    kStatusLine,
    kHeaders,
    kBodyLength,   // Content-Length body: remaining_ bytes left
    kBodyClose,    // body delimited by close
    kChunkSize,    // hex digits of a chunk-size line
    kChunkSizeWs,  // whitespace after the digits
    kChunkExt,     // extension after ';' up to LF
    kChunkSizeLf,  // CR seen, LF expected
    kChunkData,    // remaining_ bytes of chunk data left
    kChunkDataCr,  // CRLF after the chunk data
    kChunkDataLf,
    kTrailers,
    kDone,  // kDone and kError must stay last: Feed() loops while state_ < kDone
    kError,
  };
  // The field being parsed, for obs-fold continuation lines.
  enum class Field : uint8_t { kNone, kOther, kContentLength, kTransferEncoding, kConnection };
  // Offsets into fields_ (which may reallocate while warming up).
  struct CapturedField {
    size_t name_off, name_len, value_off, value_len;
  };

  Status CurrentStatus() const;
  void ResetBlock();
  const char* FeedLines(const char* p, const char* end);
  const char* FeedChunkFraming(const char* p, const char* end);
  bool OnLine(const char* line, size_t len);
  bool ParseStatusLine(const char* line, size_t len);
  bool ParseField(const char* line, size_t len);
  bool ParseContinuation(std::string_view value);
  bool ApplyField(Field field, std::string_view value);
  bool ParseContentLength(std::string_view value);
  void ParseTransferEncoding(std::string_view value);
  void ParseConnection(std::string_view value);
  void OnHeadersComplete();
  bool OnChunkSizeLine();
  void CaptureBody(const char* p, size_t n);
  bool Fail(ParseError error);

  // Immutable after construction.
  Limits limits_;

  // Settings kept across Reset().
  bool capture_headers_ = false;
  size_t max_body_capture_ = 0;

  // Per response.
  State state_ = State::kStatusLine;
  ParseError error_ = ParseError::kNone;
  bool response_to_head_ = false;
  bool headers_complete_ = false;
  bool keep_alive_ = false;
  bool body_truncated_ = false;
  int status_code_ = 0;
  int minor_ = 1;
  uint64_t body_bytes_ = 0;
  uint64_t header_bytes_ = 0;
  uint64_t total_bytes_ = 0;
  uint64_t remaining_ = 0;  // of the Content-Length body or the current chunk
  uint64_t chunk_size_ = 0;
  size_t chunk_digits_ = 0;
  size_t chunk_ext_bytes_ = 0;

  // Per header block (reset after an interim 1xx response) or trailer section.
  size_t block_bytes_ = 0;
  size_t field_count_ = 0;
  Field last_field_ = Field::kNone;
  bool has_content_length_ = false;
  bool has_transfer_encoding_ = false;
  bool chunked_ = false;  // "chunked" is the final transfer coding
  bool conn_close_ = false;
  bool conn_keep_alive_ = false;
  uint64_t content_length_ = 0;

  // Reused buffers (capacity kept).
  std::string line_;  // a line split across Feed() calls, at most max_header_bytes
  std::string fields_;
  std::vector<CapturedField> captured_;
  std::string body_;
};

}  // namespace volley::engine
