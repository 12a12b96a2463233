#include "http_response_parser.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "volley/common/http_lex.h"

namespace volley::engine {
namespace {

constexpr char kStatusPrefix[] = "HTTP/1.";
constexpr size_t kStatusPrefixLen = sizeof(kStatusPrefix) - 1;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Whether a status line that starts with `a` + `b` (no LF yet) may still turn out valid:
// it starts with "HTTP/1." (or a prefix of it), or is a lone CR of a blank line.
bool CouldBeStatusLine(std::string_view a, std::string_view b) {
  if (a.empty() && b == "\r") return true;
  if (a == "\r" && b.empty()) return true;
  size_t i = 0;
  for (std::string_view part : {a, b}) {
    for (size_t j = 0; j < part.size() && i < kStatusPrefixLen; ++j, ++i) {
      if (part[j] != kStatusPrefix[i]) return false;
    }
  }
  return true;
}

}  // namespace

const char* ErrorText(ParseError error) {
  switch (error) {
    case ParseError::kNone:
      return "no error";
    case ParseError::kBadStatusLine:
      return "malformed status line (expected HTTP/1.x, a 3-digit code and a reason)";
    case ParseError::kBadHeader:
      return "malformed header field (name must be a token followed by ':')";
    case ParseError::kHeaderTooLarge:
      return "header block larger than the limit";
    case ParseError::kTooManyHeaders:
      return "more header fields than the limit";
    case ParseError::kBadContentLength:
      return "invalid or conflicting Content-Length";
    case ParseError::kBadChunk:
      return "malformed chunked encoding (bad or overflowing size, extension or CRLF)";
    case ParseError::kBodyTooLarge:
      return "body larger than the limit";
    case ParseError::kTruncated:
      return "connection closed before the response was complete";
    case ParseError::kNoResponse:
      return "connection closed before any response byte";
  }
  return "unknown parse error";
}

ResponseParser::ResponseParser() : ResponseParser(Limits{}) {}

ResponseParser::ResponseParser(const Limits& limits) : limits_(limits) { Reset(false); }

void ResponseParser::set_capture(bool headers, size_t max_body_capture) {
  capture_headers_ = headers;
  max_body_capture_ = max_body_capture;
}

void ResponseParser::Reset(bool response_to_head) {
  state_ = State::kStatusLine;
  error_ = ParseError::kNone;
  response_to_head_ = response_to_head;
  headers_complete_ = false;
  keep_alive_ = false;
  body_truncated_ = false;
  status_code_ = 0;
  minor_ = 1;
  body_bytes_ = header_bytes_ = total_bytes_ = 0;
  remaining_ = chunk_size_ = 0;
  chunk_digits_ = chunk_ext_bytes_ = 0;
  ResetBlock();
  line_.clear();
  body_.clear();
}

void ResponseParser::ResetBlock() {
  block_bytes_ = 0;
  field_count_ = 0;
  last_field_ = Field::kNone;
  has_content_length_ = has_transfer_encoding_ = chunked_ = false;
  conn_close_ = conn_keep_alive_ = false;
  content_length_ = 0;
  fields_.clear();
  captured_.clear();
}

bool ResponseParser::Fail(ParseError error) {
  error_ = error;
  state_ = State::kError;
  keep_alive_ = false;
  return false;
}

ResponseParser::Status ResponseParser::Feed(const char* data, size_t len, size_t* consumed) {
  const char* p = data;
  const char* const end = data + len;
  while (p < end && state_ < State::kDone) {
    switch (state_) {
      case State::kStatusLine:
      case State::kHeaders:
      case State::kTrailers:
        p = FeedLines(p, end);
        break;
      case State::kBodyLength:
      case State::kChunkData: {
        // Skipped by arithmetic unless captured.
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, end - p));
        if (max_body_capture_ != 0) CaptureBody(p, n);
        body_bytes_ += n;
        remaining_ -= n;
        p += n;
        if (remaining_ == 0) {
          state_ = state_ == State::kBodyLength ? State::kDone : State::kChunkDataCr;
        }
        break;
      }
      case State::kBodyClose: {
        const size_t avail = end - p;
        const size_t n =
            static_cast<size_t>(std::min<uint64_t>(avail, limits_.max_body_bytes - body_bytes_));
        if (max_body_capture_ != 0) CaptureBody(p, n);
        body_bytes_ += n;
        p += n;
        if (n < avail) Fail(ParseError::kBodyTooLarge);
        break;
      }
      default:
        p = FeedChunkFraming(p, end);
        break;
    }
  }
  const size_t n = p - data;
  total_bytes_ += n;
  *consumed = n;
  return CurrentStatus();
}

ResponseParser::Status ResponseParser::OnEof() {
  if (state_ == State::kBodyClose) {
    state_ = State::kDone;
  } else if (state_ != State::kDone && state_ != State::kError) {
    Fail(total_bytes_ == 0 ? ParseError::kNoResponse : ParseError::kTruncated);
  }
  return CurrentStatus();
}

ResponseParser::Status ResponseParser::CurrentStatus() const {
  if (state_ == State::kDone) return Status::kDone;
  if (state_ == State::kError) return Status::kError;
  return Status::kNeedMore;
}

// Header lines: complete lines are parsed where they lie; only a line split across reads is
// copied into line_. The LF search never looks past the bytes the limit still allows.
const char* ResponseParser::FeedLines(const char* p, const char* end) {
  while (p < end && (state_ == State::kStatusLine || state_ == State::kHeaders ||
                     state_ == State::kTrailers)) {
    const size_t avail = end - p;
    const size_t used = block_bytes_ + line_.size();
    const size_t budget = limits_.max_header_bytes > used ? limits_.max_header_bytes - used : 0;
    const size_t scan = std::min(avail, budget);
    const char* lf = scan ? static_cast<const char*>(std::memchr(p, '\n', scan)) : nullptr;
    if (lf == nullptr) {
      // Reject garbage early rather than wait for a line end (the same verdict whatever the
      // split: a complete line would fail the same way).
      if (state_ == State::kStatusLine && !CouldBeStatusLine(line_, std::string_view(p, avail))) {
        Fail(ParseError::kBadStatusLine);
        return p;
      }
      if (avail >= budget) {
        Fail(ParseError::kHeaderTooLarge);
        return p;
      }
      line_.append(p, avail);
      return end;
    }
    const char* line = p;
    size_t n = lf - p;
    if (!line_.empty()) {
      line_.append(p, n);
      line = line_.data();
      n = line_.size();
    }
    p = lf + 1;
    block_bytes_ += n + 1;
    const bool header_line = state_ != State::kTrailers;
    const size_t line_bytes = n + 1;
    if (n != 0 && line[n - 1] == '\r') --n;
    if (OnLine(line, n) && header_line) header_bytes_ += line_bytes;
    line_.clear();
  }
  return p;
}

bool ResponseParser::OnLine(const char* line, size_t len) {
  switch (state_) {
    case State::kStatusLine:
      if (len == 0) return true;  // tolerate blank lines before the status line
      return ParseStatusLine(line, len);
    case State::kHeaders:
      if (len == 0) {
        OnHeadersComplete();
        return true;
      }
      return ParseField(line, len);
    case State::kTrailers:
      if (len == 0) {
        state_ = State::kDone;
        return true;
      }
      return ParseField(line, len);
    default:
      return false;
  }
}

// HTTP/1.x SP 3DIGIT [SP reason-phrase]
bool ResponseParser::ParseStatusLine(const char* line, size_t len) {
  if (len < 12 || std::memcmp(line, kStatusPrefix, kStatusPrefixLen) != 0 || !IsDigit(line[7]) ||
      line[8] != ' ' || line[9] < '1' || line[9] > '9' || !IsDigit(line[10]) ||
      !IsDigit(line[11]) || (len > 12 && line[12] != ' ')) {
    return Fail(ParseError::kBadStatusLine);
  }
  minor_ = line[7] - '0';
  status_code_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  state_ = State::kHeaders;
  return true;
}

bool ResponseParser::ParseField(const char* line, size_t len) {
  if (http::IsOws(line[0])) return ParseContinuation(http::TrimOws(std::string_view(line, len)));
  // The name is a token ending at the colon: one pass finds and validates it.
  size_t colon = 0;
  while (colon < len && http::IsTokenChar(line[colon])) ++colon;
  if (colon == 0 || colon == len || line[colon] != ':') return Fail(ParseError::kBadHeader);
  const std::string_view name(line, colon);
  if (++field_count_ > limits_.max_headers) return Fail(ParseError::kTooManyHeaders);
  const std::string_view value = http::TrimOws(std::string_view(line + colon + 1, len - colon - 1));
  if (state_ == State::kTrailers) {
    last_field_ = Field::kOther;
    return true;
  }
  // Only three fields matter for framing; the length check rules out the rest cheaply.
  Field field = Field::kOther;
  switch (name.size()) {
    case 10:
      if (http::EqualsLower(name, "connection")) field = Field::kConnection;
      break;
    case 14:
      if (http::EqualsLower(name, "content-length")) field = Field::kContentLength;
      break;
    case 17:
      if (http::EqualsLower(name, "transfer-encoding")) field = Field::kTransferEncoding;
      break;
    default:
      break;
  }
  last_field_ = field;
  if (field != Field::kOther && !ApplyField(field, value)) return false;
  if (capture_headers_) {
    CapturedField f;
    f.name_off = fields_.size();
    f.name_len = name.size();
    fields_.append(name);
    f.value_off = fields_.size();
    f.value_len = value.size();
    fields_.append(value);
    captured_.push_back(f);
  }
  return true;
}

// Obsolete line folding (RFC 9112 §5.2): the line continues the previous field's value.
bool ResponseParser::ParseContinuation(std::string_view value) {
  if (last_field_ == Field::kNone) return Fail(ParseError::kBadHeader);
  if (state_ == State::kTrailers || value.empty()) return true;
  // A folded Content-Length would read "123 456": never valid.
  if (last_field_ == Field::kContentLength) return Fail(ParseError::kBadContentLength);
  if (last_field_ != Field::kOther && !ApplyField(last_field_, value)) return false;
  if (capture_headers_ && !captured_.empty()) {
    CapturedField& f = captured_.back();  // its value is at the end of fields_
    if (f.value_len != 0) {
      fields_.push_back(' ');
      ++f.value_len;
    }
    fields_.append(value);
    f.value_len += value.size();
  }
  return true;
}

bool ResponseParser::ApplyField(Field field, std::string_view value) {
  switch (field) {
    case Field::kContentLength:
      return ParseContentLength(value);
    case Field::kTransferEncoding:
      ParseTransferEncoding(value);
      return true;
    case Field::kConnection:
      ParseConnection(value);
      return true;
    default:
      return true;
  }
}

// 1*DIGIT, or a list of identical values ("42, 42", RFC 9110 §8.6); repeated fields must
// agree too.
bool ResponseParser::ParseContentLength(std::string_view value) {
  bool ok = !value.empty() && http::ForEachListElement(value, [this](std::string_view e) {
    if (e.empty()) return false;
    uint64_t v = 0;
    for (char c : e) {
      if (!IsDigit(c)) return false;
      const uint64_t d = c - '0';
      if (v > (UINT64_MAX - d) / 10) return false;
      v = v * 10 + d;
    }
    if (has_content_length_ && v != content_length_) return false;
    has_content_length_ = true;
    content_length_ = v;
    return true;
  });
  return ok || Fail(ParseError::kBadContentLength);
}

// Codings with optional parameters ("gzip;q=1"); what matters is whether the last one is
// chunked.
void ResponseParser::ParseTransferEncoding(std::string_view value) {
  http::ForEachListElement(value, [this](std::string_view e) {
    e = http::TrimOws(e.substr(0, e.find(';')));
    if (!e.empty()) {
      has_transfer_encoding_ = true;
      chunked_ = http::EqualsLower(e, "chunked");
    }
    return true;
  });
}

void ResponseParser::ParseConnection(std::string_view value) {
  http::ForEachListElement(value, [this](std::string_view e) {
    if (http::EqualsLower(e, "close")) {
      conn_close_ = true;
    } else if (http::EqualsLower(e, "keep-alive")) {
      conn_keep_alive_ = true;
    }
    return true;
  });
}

void ResponseParser::OnHeadersComplete() {
  if (status_code_ < 200 && status_code_ != 101) {
    // Interim response: the final one follows.
    ResetBlock();
    status_code_ = 0;
    state_ = State::kStatusLine;
    return;
  }
  headers_complete_ = true;
  keep_alive_ = minor_ >= 1 ? !conn_close_ : conn_keep_alive_ && !conn_close_;
  // RFC 9112 §6.1, §6.3: close after such framing, which may be a smuggling attempt.
  if (has_transfer_encoding_ && (has_content_length_ || minor_ == 0)) keep_alive_ = false;

  if (response_to_head_ || status_code_ == 204 || status_code_ == 304 || status_code_ == 101) {
    if (status_code_ == 101) keep_alive_ = false;  // the connection left HTTP/1.1
    state_ = State::kDone;
  } else if (has_transfer_encoding_) {
    if (chunked_) {
      state_ = State::kChunkSize;
    } else {
      state_ = State::kBodyClose;
      keep_alive_ = false;
    }
  } else if (has_content_length_) {
    if (content_length_ > limits_.max_body_bytes) {
      Fail(ParseError::kBodyTooLarge);
      return;
    }
    remaining_ = content_length_;
    state_ = remaining_ == 0 ? State::kDone : State::kBodyLength;
  } else {
    state_ = State::kBodyClose;
    keep_alive_ = false;
  }
}

// Chunk framing is short, so it is parsed a byte at a time without buffering:
// chunk-size [BWS] [; ext] CRLF, data, CRLF; bare LF is accepted for CRLF.
const char* ResponseParser::FeedChunkFraming(const char* p, const char* end) {
  while (p < end) {
    const char c = *p;
    switch (state_) {
      case State::kChunkSize: {
        const int d = http::HexValue(c);
        if (d >= 0) {
          if (chunk_size_ > (UINT64_MAX >> 4)) {
            Fail(ParseError::kBadChunk);
            return p;
          }
          chunk_size_ = (chunk_size_ << 4) | static_cast<uint64_t>(d);
          ++chunk_digits_;
          ++p;
          continue;
        }
        if (chunk_digits_ == 0) {
          Fail(ParseError::kBadChunk);
          return p;
        }
        state_ = State::kChunkSizeWs;
        continue;  // the same byte, handled below
      }
      case State::kChunkSizeWs:
        ++p;
        if (http::IsOws(c) && ++chunk_ext_bytes_ <= limits_.max_header_bytes) continue;
        if (c == ';') {
          state_ = State::kChunkExt;
        } else if (c == '\r') {
          state_ = State::kChunkSizeLf;
        } else if (c == '\n') {
          OnChunkSizeLine();
          return p;
        } else {
          Fail(ParseError::kBadChunk);
          return p - 1;
        }
        continue;
      case State::kChunkExt: {
        // Skipped, not interpreted, but bounded like a header line.
        const size_t avail = end - p;
        const size_t budget = limits_.max_header_bytes > chunk_ext_bytes_
                                  ? limits_.max_header_bytes - chunk_ext_bytes_
                                  : 0;
        const size_t scan = std::min(avail, budget);
        const char* lf = scan ? static_cast<const char*>(std::memchr(p, '\n', scan)) : nullptr;
        if (lf == nullptr) {
          if (avail >= budget) {
            Fail(ParseError::kBadChunk);
            return p;
          }
          chunk_ext_bytes_ += avail;
          return end;
        }
        OnChunkSizeLine();
        return lf + 1;
      }
      case State::kChunkSizeLf:
        if (c != '\n') {
          Fail(ParseError::kBadChunk);
          return p;
        }
        OnChunkSizeLine();
        return p + 1;
      case State::kChunkDataCr:
        if (c == '\r') {
          state_ = State::kChunkDataLf;
          ++p;
          continue;
        }
        [[fallthrough]];
      case State::kChunkDataLf:
        if (c != '\n') {
          Fail(ParseError::kBadChunk);
          return p;
        }
        state_ = State::kChunkSize;
        ++p;
        continue;
      default:
        return p;
    }
  }
  return p;
}

bool ResponseParser::OnChunkSizeLine() {
  const uint64_t size = chunk_size_;
  chunk_size_ = 0;
  chunk_digits_ = chunk_ext_bytes_ = 0;
  if (size == 0) {
    state_ = State::kTrailers;
    block_bytes_ = 0;
    field_count_ = 0;
    last_field_ = Field::kNone;
    return true;
  }
  if (size > limits_.max_body_bytes - body_bytes_) return Fail(ParseError::kBodyTooLarge);
  remaining_ = size;
  state_ = State::kChunkData;
  return true;
}

void ResponseParser::CaptureBody(const char* p, size_t n) {
  const size_t room = max_body_capture_ - std::min(max_body_capture_, body_.size());
  const size_t take = std::min(room, n);
  body_.append(p, take);
  if (take < n) body_truncated_ = true;
}

std::string_view ResponseParser::header_name(size_t i) const {
  const CapturedField& f = captured_[i];
  return std::string_view(fields_).substr(f.name_off, f.name_len);
}

std::string_view ResponseParser::header_value(size_t i) const {
  const CapturedField& f = captured_[i];
  return std::string_view(fields_).substr(f.value_off, f.value_len);
}

std::optional<std::string_view> ResponseParser::FindHeader(std::string_view name) const {
  for (size_t i = 0; i < captured_.size(); ++i) {
    if (http::EqualsIgnoreCase(header_name(i), name)) return header_value(i);
  }
  return std::nullopt;
}

}  // namespace volley::engine
