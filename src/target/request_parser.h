// An incremental HTTP/1.x request parser for the target. It keeps no copy of the input: the
// caller keeps unconsumed bytes and feeds them again with whatever arrived since.
#pragma once

#include <cstddef>
#include <cstdint>

namespace volley::target {

// The request line plus headers plus the empty line may take at most this many bytes.
inline constexpr size_t kMaxHeaderBytes = 16 * 1024;
// A chunk-size line (with extensions) may take at most this many bytes.
inline constexpr size_t kMaxChunkLineBytes = 1024;

enum class Method : uint8_t { kGet, kHead, kPost, kOther };

// What the target does with the request path.
enum class Control : uint8_t {
  kNone,     // a normal request: answered from the status mix
  kStats,    // /__volley/stats
  kReset,    // /__volley/reset
  kUnknown,  // another /__volley/ path: 404
};

// What the target needs to know about a request; valid after kHead or kComplete until the
// next Feed().
struct RequestInfo {
  Method method = Method::kOther;
  Control control = Control::kNone;
  int version_minor = 1;  // HTTP/1.0 or HTTP/1.1 (1.2+ are treated as 1.1)
  bool keep_alive = true;
  bool expect_continue = false;  // HTTP/1.1 "Expect: 100-continue" with a body to come
  bool has_body = false;
  bool chunked = false;
  uint64_t content_length = 0;
  int error_status = 0;           // after kError: 400, 501 or 505
  const char* error_reason = "";  // after kError: a short description for the 4xx body
};

enum class ParseEvent {
  kNeedMore,  // everything usable was consumed; feed again with more bytes
  kHead,      // the head of a request with a body was parsed (check expect_continue)
  kComplete,  // a whole request (head and body) was read; the parser is ready for the next
  kError,     // the input is not acceptable; see error_status. The parser stays in error.
};

struct ParseStep {
  ParseEvent event = ParseEvent::kNeedMore;
  size_t consumed = 0;  // bytes of the input that the caller must drop
};

// Confined to one thread (one per connection). Bodies are skipped, never stored.
class RequestParser {
 public:
  // Consumes a prefix of [data, data + len) and reports what it found. Call again with the
  // unconsumed rest (plus new bytes) until kNeedMore. Never consumes a partial head, chunk
  // line or trailer line: those stay with the caller, who needs at most kMaxHeaderBytes of
  // buffer (a head that does not fit is an error, not kNeedMore).
  ParseStep Feed(const char* data, size_t len);

  const RequestInfo& request() const { return info_; }
  bool failed() const { return state_ == State::kError; }

  // Forgets any partial request.
  void Reset();

 private:
  enum class State { kHead, kBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailers, kError };

  ParseStep FeedHead(const char* data, size_t len);
  ParseStep FeedChunkSize(const char* data, size_t len);
  ParseStep FeedTrailers(const char* data, size_t len);
  // Parses a complete head [data, data + len) into info_; false on error (info_ says why).
  bool ParseHead(const char* data, size_t len);
  bool ParseHeaderLine(const char* line, size_t len);
  ParseStep Fail(int status, const char* reason, size_t consumed = 0);
  ParseStep Complete(size_t consumed);

  State state_ = State::kHead;
  size_t scanned_ = 0;        // head bytes already searched for the empty line
  uint64_t remaining_ = 0;    // body or chunk bytes still to skip
  size_t trailer_bytes_ = 0;  // bytes of trailers so far
  // Per-head scratch, valid while parsing one head.
  bool saw_close_ = false;
  bool saw_keep_alive_ = false;
  bool saw_content_length_ = false;
  bool saw_transfer_encoding_ = false;
  bool te_chunked_last_ = false;
  bool te_other_ = false;
  bool te_bad_ = false;
  RequestInfo info_;
};

}  // namespace volley::target
