#include "request_parser.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

#include "volley/common/http_lex.h"

namespace volley::target {
namespace {

constexpr size_t kMaxMethodBytes = 32;

bool IsToken(const char* s, size_t n) { return http::IsToken(std::string_view(s, n)); }

// Calls fn(token) for each comma-separated, trimmed, non-empty element of a header list.
template <typename Fn>
void ForEachListItem(std::string_view value, Fn fn) {
  http::ForEachListElement(value, [&](std::string_view item) {
    if (!item.empty()) fn(item);
    return true;
  });
}

// Strips the '\n' and an optional '\r' before it.
size_t LineLength(const char* line, const char* newline) {
  size_t n = static_cast<size_t>(newline - line);
  if (n > 0 && line[n - 1] == '\r') --n;
  return n;
}

Control ClassifyTarget(std::string_view target) {
  constexpr std::string_view kPrefix = "/__volley/";
  if (target.size() < kPrefix.size() || target.compare(0, kPrefix.size(), kPrefix) != 0) {
    return Control::kNone;
  }
  std::string_view path = target.substr(kPrefix.size());
  path = path.substr(0, path.find('?'));
  if (path == "stats") return Control::kStats;
  if (path == "reset") return Control::kReset;
  return Control::kUnknown;
}

}  // namespace

void RequestParser::Reset() {
  state_ = State::kHead;
  scanned_ = 0;
  remaining_ = 0;
  trailer_bytes_ = 0;
  info_ = RequestInfo{};
}

ParseStep RequestParser::Fail(int status, const char* reason, size_t consumed) {
  state_ = State::kError;
  info_.error_status = status;
  info_.error_reason = reason;
  return ParseStep{ParseEvent::kError, consumed};
}

ParseStep RequestParser::Complete(size_t consumed) {
  state_ = State::kHead;
  scanned_ = 0;
  return ParseStep{ParseEvent::kComplete, consumed};
}

ParseStep RequestParser::Feed(const char* data, size_t len) {
  size_t used = 0;
  for (;;) {
    const char* p = data + used;
    const size_t n = len - used;
    switch (state_) {
      case State::kHead: {
        ParseStep step = FeedHead(p, n);
        step.consumed += used;
        return step;
      }
      case State::kBody: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(n, remaining_));
        used += take;
        remaining_ -= take;
        if (remaining_ == 0) return Complete(used);
        return ParseStep{ParseEvent::kNeedMore, used};
      }
      case State::kChunkSize: {
        ParseStep step = FeedChunkSize(p, n);
        step.consumed += used;
        if (step.event != ParseEvent::kHead) return step;  // kHead: a line was consumed
        used = step.consumed;
        break;
      }
      case State::kChunkData: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(n, remaining_));
        used += take;
        remaining_ -= take;
        if (remaining_ > 0) return ParseStep{ParseEvent::kNeedMore, used};
        state_ = State::kChunkDataEnd;
        break;
      }
      case State::kChunkDataEnd: {
        if (n == 0) return ParseStep{ParseEvent::kNeedMore, used};
        if (p[0] == '\n') {
          used += 1;
        } else if (p[0] == '\r') {
          if (n < 2) return ParseStep{ParseEvent::kNeedMore, used};
          if (p[1] != '\n') return Fail(400, "chunk data not followed by CRLF", used);
          used += 2;
        } else {
          return Fail(400, "chunk data longer than its size", used);
        }
        state_ = State::kChunkSize;
        break;
      }
      case State::kTrailers: {
        ParseStep step = FeedTrailers(p, n);
        step.consumed += used;
        if (step.event != ParseEvent::kHead) return step;
        used = step.consumed;
        break;
      }
      case State::kError:
        return ParseStep{ParseEvent::kError, 0};
    }
  }
}

// Returns kHead after consuming one chunk-size line, kNeedMore or kError.
ParseStep RequestParser::FeedChunkSize(const char* p, size_t n) {
  const size_t window = std::min(n, kMaxChunkLineBytes);
  const char* nl = static_cast<const char*>(memchr(p, '\n', window));
  if (nl == nullptr) {
    if (n >= kMaxChunkLineBytes) return Fail(400, "chunk-size line too long");
    return ParseStep{ParseEvent::kNeedMore, 0};
  }
  const size_t line_len = LineLength(p, nl);
  uint64_t size = 0;
  size_t i = 0;
  for (; i < line_len; ++i) {
    const char c = http::AsciiLower(p[i]);
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      break;
    }
    if (i >= 15) return Fail(400, "chunk size too large");
    size = size * 16 + static_cast<uint64_t>(digit);
  }
  if (i == 0) return Fail(400, "chunk-size line without a hex size");
  size_t j = i;
  while (j < line_len && http::IsOws(p[j])) ++j;
  if (j < line_len && p[j] != ';') return Fail(400, "bad chunk-size line");
  if (!http::IsValidFieldValue(std::string_view(p + j, line_len - j))) {
    return Fail(400, "control character in a chunk extension");
  }
  if (size == 0) {
    state_ = State::kTrailers;
    trailer_bytes_ = 0;
  } else {
    state_ = State::kChunkData;
    remaining_ = size;
  }
  return ParseStep{ParseEvent::kHead, static_cast<size_t>(nl - p) + 1};
}

// Returns kHead after consuming one trailer line, kComplete after the empty line, kNeedMore
// or kError. Trailer fields are ignored.
ParseStep RequestParser::FeedTrailers(const char* p, size_t n) {
  const char* nl = static_cast<const char*>(memchr(p, '\n', n));
  if (nl == nullptr) {
    if (trailer_bytes_ + n >= kMaxHeaderBytes) return Fail(400, "trailers over 16 KiB");
    return ParseStep{ParseEvent::kNeedMore, 0};
  }
  const size_t raw = static_cast<size_t>(nl - p) + 1;
  trailer_bytes_ += raw;
  if (trailer_bytes_ > kMaxHeaderBytes) return Fail(400, "trailers over 16 KiB");
  const size_t line_len = LineLength(p, nl);
  if (line_len == 0) return Complete(raw);
  if (http::IsOws(p[0]) || memchr(p, ':', line_len) == nullptr) {
    return Fail(400, "bad trailer line");
  }
  return ParseStep{ParseEvent::kHead, raw};
}

ParseStep RequestParser::FeedHead(const char* data, size_t len) {
  // RFC 9112 §2.2: ignore empty lines before the request line.
  size_t skip = 0;
  if (scanned_ == 0) {
    while (skip < len && (data[skip] == '\r' || data[skip] == '\n')) ++skip;
  }
  const char* p = data + skip;
  const size_t n = len - skip;
  const size_t window = std::min(n, kMaxHeaderBytes);
  size_t i = scanned_;
  size_t end = 0;
  while (i < window) {
    const char* nl = static_cast<const char*>(memchr(p + i, '\n', window - i));
    if (nl == nullptr) {
      i = window;
      break;
    }
    const size_t pos = static_cast<size_t>(nl - p);
    if (pos + 1 < window && p[pos + 1] == '\n') {
      end = pos + 2;
      break;
    }
    if (pos + 2 < window && p[pos + 1] == '\r' && p[pos + 2] == '\n') {
      end = pos + 3;
      break;
    }
    if (pos + 2 >= window && (pos + 1 >= window || p[pos + 1] == '\r')) {
      i = pos;  // the empty line may be completed by bytes not here yet
      break;
    }
    i = pos + 1;
  }
  if (end == 0) {
    if (n >= kMaxHeaderBytes) return Fail(400, "request header block over 16 KiB", skip);
    // Reject what cannot become a request line without waiting for 16 KiB of it.
    const size_t probe = std::min(n, kMaxMethodBytes + 1);
    for (size_t k = 0; k < probe; ++k) {
      if (p[k] == ' ') break;
      if (!http::IsTokenChar(p[k]) || k == kMaxMethodBytes) {
        return Fail(400, "not an HTTP request", skip);
      }
    }
    scanned_ = i;
    return ParseStep{ParseEvent::kNeedMore, skip};
  }
  scanned_ = 0;
  if (!ParseHead(p, end)) return Fail(info_.error_status, info_.error_reason, skip + end);
  if (info_.chunked) {
    state_ = State::kChunkSize;
  } else if (info_.content_length > 0) {
    state_ = State::kBody;
    remaining_ = info_.content_length;
  } else {
    return Complete(skip + end);
  }
  return ParseStep{ParseEvent::kHead, skip + end};
}

bool RequestParser::ParseHead(const char* data, size_t len) {
  info_ = RequestInfo{};
  saw_close_ = saw_keep_alive_ = saw_content_length_ = saw_transfer_encoding_ = false;
  te_chunked_last_ = te_other_ = te_bad_ = false;
  auto fail = [this](int status, const char* reason) {
    info_.error_status = status;
    info_.error_reason = reason;
    return false;
  };
  const char* stop = data + len;
  // Request line: METHOD SP TARGET SP HTTP/x.y
  const char* nl = static_cast<const char*>(memchr(data, '\n', len));
  const size_t line_len = LineLength(data, nl);
  const char* sp1 = static_cast<const char*>(memchr(data, ' ', line_len));
  if (sp1 == nullptr) return fail(400, "bad request line");
  const size_t method_len = static_cast<size_t>(sp1 - data);
  if (!IsToken(data, method_len) || method_len > kMaxMethodBytes) {
    return fail(400, "bad method");
  }
  const std::string_view method(data, method_len);
  if (method == "GET") {
    info_.method = Method::kGet;
  } else if (method == "HEAD") {
    info_.method = Method::kHead;
  } else if (method == "POST") {
    info_.method = Method::kPost;
  }
  const char* target = sp1 + 1;
  const char* line_end = data + line_len;
  const char* sp2 = static_cast<const char*>(memchr(target, ' ', line_end - target));
  if (sp2 == nullptr || sp2 == target) return fail(400, "bad request target");
  for (const char* c = target; c < sp2; ++c) {
    const auto u = static_cast<unsigned char>(*c);
    if (u <= 0x20 || u == 0x7f) return fail(400, "bad request target");
  }
  const std::string_view version(sp2 + 1, line_end - (sp2 + 1));
  if (version.size() != 8 || version.compare(0, 5, "HTTP/") != 0 || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return fail(400, "bad HTTP version");
  }
  if (version[5] != '1') return fail(505, "only HTTP/1.0 and HTTP/1.1 are served");
  info_.version_minor = version[7] == '0' ? 0 : 1;
  info_.control = ClassifyTarget(std::string_view(target, sp2 - target));

  const char* cur = nl + 1;
  while (cur < stop) {
    nl = static_cast<const char*>(memchr(cur, '\n', stop - cur));
    const size_t n = LineLength(cur, nl);
    if (n == 0) break;  // the empty line that ends the head
    if (http::IsOws(cur[0])) return fail(400, "obsolete header line folding");
    if (!ParseHeaderLine(cur, n)) return false;
    cur = nl + 1;
  }

  if (saw_transfer_encoding_) {
    if (info_.version_minor == 0) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (saw_content_length_) return fail(400, "both Content-Length and Transfer-Encoding");
    if (te_bad_ || !te_chunked_last_) return fail(400, "chunked must be the last coding, once");
    if (te_other_) return fail(501, "transfer codings other than chunked are not supported");
    info_.chunked = true;
    info_.has_body = true;
  } else {
    info_.has_body = info_.content_length > 0;
  }
  info_.keep_alive = info_.version_minor == 0 ? (saw_keep_alive_ && !saw_close_) : !saw_close_;
  info_.expect_continue = info_.expect_continue && info_.has_body && info_.version_minor >= 1;
  return true;
}

bool RequestParser::ParseHeaderLine(const char* line, size_t len) {
  auto fail = [this](const char* reason) {
    info_.error_status = 400;
    info_.error_reason = reason;
    return false;
  };
  const char* colon = static_cast<const char*>(memchr(line, ':', len));
  if (colon == nullptr) return fail("header line without ':'");
  const size_t name_len = static_cast<size_t>(colon - line);
  if (!IsToken(line, name_len)) return fail("bad header name");
  const std::string_view name(line, name_len);
  const std::string_view value = http::TrimOws(std::string_view(colon + 1, len - name_len - 1));
  if (!http::IsValidFieldValue(value)) return fail("control character in a header value");
  switch (name_len) {
    case 14:
      if (http::EqualsLower(name, "content-length")) {
        if (value.empty() || value.size() > 18) return fail("bad Content-Length");
        uint64_t v = 0;
        for (char c : value) {
          if (c < '0' || c > '9') return fail("bad Content-Length");
          v = v * 10 + static_cast<uint64_t>(c - '0');
        }
        if (saw_content_length_ && v != info_.content_length) {
          return fail("conflicting Content-Length headers");
        }
        saw_content_length_ = true;
        info_.content_length = v;
      }
      break;
    case 17:
      if (http::EqualsLower(name, "transfer-encoding")) {
        saw_transfer_encoding_ = true;
        ForEachListItem(value, [this](std::string_view coding) {
          if (http::EqualsLower(coding, "chunked")) {
            if (te_chunked_last_) te_bad_ = true;
            te_chunked_last_ = true;
          } else {
            if (te_chunked_last_) te_bad_ = true;  // chunked must be the final coding
            te_other_ = true;
            te_chunked_last_ = false;
          }
        });
      }
      break;
    case 10:
      if (http::EqualsLower(name, "connection")) {
        ForEachListItem(value, [this](std::string_view option) {
          if (http::EqualsLower(option, "close")) saw_close_ = true;
          if (http::EqualsLower(option, "keep-alive")) saw_keep_alive_ = true;
        });
      }
      break;
    case 6:
      if (http::EqualsLower(name, "expect") && http::EqualsLower(value, "100-continue")) {
        info_.expect_continue = true;
      }
      break;
    default:
      break;
  }
  return true;
}

}  // namespace volley::target
