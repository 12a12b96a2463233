#include "http_response_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

// Counts heap allocations so tests can show that a warm parser does not allocate.
namespace {
std::atomic<size_t> g_allocations{0};
}  // namespace

// noinline: inlined into callers, g++ 12 mistakes the malloc/free pair for a mismatch.
[[gnu::noinline]] void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace volley::engine {

// Readable gtest failure messages (found by ADL, so outside the anonymous namespace).
void PrintTo(ResponseParser::Status s, std::ostream* os) {
  *os << (s == ResponseParser::Status::kNeedMore ? "kNeedMore"
          : s == ResponseParser::Status::kDone   ? "kDone"
                                                 : "kError");
}
void PrintTo(ParseError e, std::ostream* os) { *os << ErrorText(e); }

namespace {

using Status = ResponseParser::Status;

struct Options {
  bool head = false;
  bool eof = false;  // call OnEof() if the input ends before the response does
  bool capture_headers = false;
  size_t capture_body = 0;
  ResponseParser::Limits limits;
};

// Everything observable after parsing one response.
struct Outcome {
  Status status = Status::kNeedMore;
  size_t consumed = 0;
  ParseError error = ParseError::kNone;
  int status_code = 0;
  bool keep_alive = false;
  bool headers_complete = false;
  uint64_t body_bytes = 0;
  uint64_t header_bytes = 0;
  uint64_t total_bytes = 0;
  std::string body;
  bool body_truncated = false;
  std::vector<std::pair<std::string, std::string>> headers;
  bool operator==(const Outcome&) const = default;
};

void PrintTo(const Outcome& o, std::ostream* os) {
  *os << "{status=" << testing::PrintToString(o.status) << " consumed=" << o.consumed
      << " error=" << ErrorText(o.error) << " code=" << o.status_code << " ka=" << o.keep_alive
      << " hc=" << o.headers_complete << " body=" << o.body_bytes << " hdr=" << o.header_bytes
      << " total=" << o.total_bytes << " captured=" << o.body.size() << "/" << o.headers.size()
      << "}";
}

// Feeds `input` in pieces of the given sizes (the last piece takes the rest) and stops at
// the first status other than kNeedMore, like a connection would.
Outcome FeedPieces(ResponseParser& parser, std::string_view input, const std::vector<size_t>& sizes,
                   const Options& o) {
  parser.Reset(o.head);
  Outcome out;
  size_t pos = 0;
  for (size_t i = 0; pos < input.size() && out.status == Status::kNeedMore; ++i) {
    size_t n = i < sizes.size() ? std::min(sizes[i], input.size() - pos) : input.size() - pos;
    size_t consumed = n + 1;
    out.status = parser.Feed(input.data() + pos, n, &consumed);
    EXPECT_LE(consumed, n);
    if (out.status == Status::kNeedMore) {
      EXPECT_EQ(consumed, n);
    }
    out.consumed += consumed;
    pos += n;
  }
  if (out.status == Status::kNeedMore && o.eof) out.status = parser.OnEof();
  out.error = parser.error();
  out.status_code = parser.status_code();
  out.keep_alive = parser.keep_alive();
  out.headers_complete = parser.headers_complete();
  out.body_bytes = parser.body_bytes();
  out.header_bytes = parser.header_bytes();
  out.total_bytes = parser.total_bytes();
  out.body = std::string(parser.body());
  out.body_truncated = parser.body_capture_truncated();
  for (size_t i = 0; i < parser.header_count(); ++i) {
    out.headers.emplace_back(parser.header_name(i), parser.header_value(i));
  }
  EXPECT_EQ(out.total_bytes, out.consumed);
  EXPECT_LE(out.header_bytes + out.body_bytes, out.total_bytes);
  EXPECT_EQ(out.status == Status::kError, out.error != ParseError::kNone);
  return out;
}

// On an error, how many bytes were taken before the fault depends on the split (a partial
// line is taken, a complete bad one is not); everything else must not.
Outcome Comparable(Outcome o) {
  if (o.status == Status::kError) o.consumed = o.total_bytes = 0;
  return o;
}

// Parses `input` in one piece, then one byte at a time, then in random splits (fixed seeds),
// with the same parser (so Reset() is exercised too), and expects identical outcomes.
// Returns the one-piece outcome.
Outcome Parse(std::string_view input, const Options& o = {}) {
  ResponseParser parser(o.limits);
  parser.set_capture(o.capture_headers, o.capture_body);
  const Outcome whole = FeedPieces(parser, input, {}, o);
  EXPECT_EQ(Comparable(FeedPieces(parser, input, std::vector<size_t>(input.size(), 1), o)),
            Comparable(whole))
      << "one byte at a time";
  for (uint32_t seed = 1; seed <= 16; ++seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<size_t> piece(1, std::max<size_t>(1, input.size() / 4));
    std::vector<size_t> sizes;
    for (size_t total = 0; total < input.size(); total += sizes.back()) sizes.push_back(piece(rng));
    EXPECT_EQ(Comparable(FeedPieces(parser, input, sizes, o)), Comparable(whole))
        << "random split, seed " << seed;
  }
  return whole;
}

constexpr std::string_view kHello =
    "HTTP/1.1 200 OK\r\n"
    "Server: volley-target\r\n"
    "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 13\r\n"
    "\r\n"
    "Hello, World!";
constexpr size_t kHelloHeaderBytes = 125;

TEST(ResponseParser, KeepAliveResponseWithContentLength) {
  ASSERT_EQ(kHello.find("\r\n\r\n") + 4, kHelloHeaderBytes);
  Outcome o = Parse(kHello);
  EXPECT_EQ(o.status, Status::kDone);
  EXPECT_EQ(o.consumed, kHello.size());
  EXPECT_EQ(o.status_code, 200);
  EXPECT_TRUE(o.keep_alive);
  EXPECT_TRUE(o.headers_complete);
  EXPECT_EQ(o.body_bytes, 13u);
  EXPECT_EQ(o.header_bytes, kHelloHeaderBytes);
  EXPECT_TRUE(o.body.empty());  // capture is off by default: nothing copied
  EXPECT_TRUE(o.headers.empty());
}

TEST(ResponseParser, StatusLineVariants) {
  Outcome o = Parse("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(o.status, Status::kDone);
  EXPECT_EQ(o.status_code, 404);
  EXPECT_EQ(Parse("HTTP/1.1 503 \r\nContent-Length: 0\r\n\r\n").status_code, 503);

  o = Parse("HTTP/1.1 201 Created\nContent-Length: 2\n\nokEXTRA");  // bare LF
  EXPECT_EQ(o.status, Status::kDone);
  EXPECT_EQ(o.status_code, 201);
  EXPECT_EQ(o.consumed, 42u);
  EXPECT_EQ(o.header_bytes, 40u);

  o = Parse("\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");  // stray blank lines
  EXPECT_EQ(o.status, Status::kDone);
  EXPECT_EQ(o.header_bytes, 42u);
}

TEST(ResponseParser, Http10DefaultsToCloseUnlessKeepAlive) {
  EXPECT_FALSE(Parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
  Outcome o = Parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx");
  EXPECT_EQ(o.status, Status::kDone);
  EXPECT_TRUE(o.keep_alive);
}

TEST(ResponseParser, ConnectionTokens) {
  struct Case {
    const char* version;
    const char* connection;
    bool keep_alive;
  };
  for (const Case& c : {Case{"1.1", "close", false}, Case{"1.1", "CLOSE", false},
                        Case{"1.1", "upgrade, Close", false}, Case{"1.1", "keep-alive", true},
                        Case{"1.1", "closed", true}, Case{"1.1", "x-close , foo", true},
                        Case{"1.0", "foo,keep-alive", true},
                        Case{"1.0", "keep-alive, close", false}, Case{"1.0", "", false}}) {
    std::string response = std::string("HTTP/") + c.version +
                           " 200 OK\r\nConnection: " + c.connection +
                           "\r\nContent-Length: 0\r\n\r\n";
    Outcome o = Parse(response);
    EXPECT_EQ(o.status, Status::kDone) << response;
    EXPECT_EQ(o.keep_alive, c.keep_alive) << response;
  }
}

TEST(ResponseParser, RejectsGarbageInsteadOfAStatusLine) {
  for (const char* bad :
       {"<html>hello</html>\r\n\r\n", "HTTP/2 200 OK\r\n\r\n", "HTTP/2.0 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 099 OK\r\n\r\n",
        "HTTP/1.1  200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.x 200 OK\r\n\r\n",
        "ICY 200 OK\r\n\r\n", "http/1.1 200 OK\r\n\r\n", "HTTP/1.1\r\n\r\n", " HTTP/1.1 200\r\n"}) {
    Outcome o = Parse(bad);
    EXPECT_EQ(o.status, Status::kError) << bad;
    EXPECT_EQ(o.error, ParseError::kBadStatusLine) << bad;
    EXPECT_FALSE(o.keep_alive);
  }
}

TEST(ResponseParser, RejectsGarbageWithoutWaitingForALineEnd) {
  ResponseParser parser;
  size_t consumed = 0;
  EXPECT_EQ(parser.Feed("HTTP/", 5, &consumed), Status::kNeedMore);
  EXPECT_EQ(parser.Feed("2", 1, &consumed), Status::kError);
  EXPECT_EQ(parser.error(), ParseError::kBadStatusLine);
  parser.Reset();
  EXPECT_EQ(parser.Feed("\x16\x03\x01", 3, &consumed), Status::kError);  // a TLS record
}

TEST(ResponseParser, RejectsBadHeaderLines) {
  for (const char* bad : {"NoColon\r\n", ": empty name\r\n", "Bad Name: x\r\n",
                          "Name : space before colon\r\n", "Na(me): x\r\n", "\x01X: y\r\n"}) {
    std::string response = std::string("HTTP/1.1 200 OK\r\n") + bad + "Content-Length: 0\r\n\r\n";
    Outcome o = Parse(response);
    EXPECT_EQ(o.error, ParseError::kBadHeader) << bad;
  }
  // A continuation line right after the status line has nothing to continue.
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\n  folded\r\n\r\n").error, ParseError::kBadHeader);
}

TEST(ResponseParser, CapturesTrimmedHeadersAndFindsThemCaseInsensitively) {
  Options o;
  o.capture_headers = true;
  Outcome out = Parse(
      "HTTP/1.1 200 OK\r\nX-Token:   abc def \t\r\nSet-Cookie: a=1\r\nEmpty:\r\n"
      "X-Fold: one\r\n  two\r\n\tthree \r\ncontent-length: 0\r\n\r\n",
      o);
  ASSERT_EQ(out.status, Status::kDone);
  const std::vector<std::pair<std::string, std::string>> want = {{"X-Token", "abc def"},
                                                                 {"Set-Cookie", "a=1"},
                                                                 {"Empty", ""},
                                                                 {"X-Fold", "one two three"},
                                                                 {"content-length", "0"}};
  EXPECT_EQ(out.headers, want);

  ResponseParser parser;
  parser.set_capture(true, 0);
  std::string_view r =
      "HTTP/1.1 200 OK\r\nX-Request-ID: 42\r\nEmpty: \r\nContent-Length: 0\r\n\r\n";
  size_t consumed = 0;
  ASSERT_EQ(parser.Feed(r.data(), r.size(), &consumed), Status::kDone);
  EXPECT_EQ(parser.FindHeader("x-request-id"), "42");
  EXPECT_EQ(parser.FindHeader("X-REQUEST-ID"), "42");
  EXPECT_EQ(parser.FindHeader("empty"), "");
  EXPECT_EQ(parser.FindHeader("X-Missing"), std::nullopt);
  EXPECT_EQ(parser.FindHeader("X-Request-I"), std::nullopt);
}

TEST(ResponseParser, RejectsBadContentLength) {
  for (const char* bad : {"12a", "-1", "+5", "", "0x10", "1 2", "5,", "5, 6", "1.0",
                          "18446744073709551616", "99999999999999999999999"}) {
    std::string response =
        std::string("HTTP/1.1 200 OK\r\nContent-Length: ") + bad + "\r\n\r\n12345";
    Outcome o = Parse(response);
    EXPECT_EQ(o.error, ParseError::kBadContentLength) << bad;
  }
  Outcome o = Parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n123456");
  EXPECT_EQ(o.error, ParseError::kBadContentLength);
  o = Parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n 6\r\n\r\n123456");  // folded
  EXPECT_EQ(o.error, ParseError::kBadContentLength);
}

TEST(ResponseParser, AcceptsIdenticalContentLengths) {
  Outcome o = Parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\ncontent-length: 005\r\n\r\n12345");
  EXPECT_EQ(o.status, Status::kDone);
  EXPECT_EQ(o.body_bytes, 5u);
  o = Parse("HTTP/1.1 200 OK\r\nContent-Length: 3 , 3\r\n\r\nabcdef");
  EXPECT_EQ(o.status, Status::kDone);
  EXPECT_EQ(o.consumed, o.total_bytes);
  EXPECT_EQ(o.body_bytes, 3u);
  o = Parse("HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\nab", {.eof = true});
  EXPECT_EQ(o.error, ParseError::kTruncated);  // the largest value parses
  EXPECT_EQ(o.body_bytes, 2u);
}

constexpr std::string_view kChunked =
    "HTTP/1.1 200 OK\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "5\r\nHello\r\n"
    "8;name=value;x=\"q\"\r\n, World!\r\n"
    "0\r\n"
    "X-Trailer: 1\r\n"
    "\r\n";

TEST(ResponseParser, ChunkedBodyWithExtensionsAndTrailers) {
  Options o;
  o.capture_headers = true;
  o.capture_body = 1024;
  std::string input = std::string(kChunked) + "HTTP/1.1 200 OK\r\n";
  Outcome out = Parse(input, o);
  EXPECT_EQ(out.status, Status::kDone);
  EXPECT_EQ(out.consumed, kChunked.size());  // the next response is left alone
  EXPECT_EQ(out.body_bytes, 13u);
  EXPECT_EQ(out.body, "Hello, World!");
  EXPECT_FALSE(out.body_truncated);
  EXPECT_TRUE(out.keep_alive);
  EXPECT_EQ(out.header_bytes, 47u);
  ASSERT_EQ(out.headers.size(), 1u);  // trailers are not captured
  EXPECT_EQ(out.headers[0].first, "Transfer-Encoding");
}

TEST(ResponseParser, ChunkedVariants) {
  Options o;
  o.capture_body = 100;
  // Upper-case hex, leading zeros, whitespace before CRLF, bare LF, no trailers.
  Outcome out = Parse(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
      "00A \r\n0123456789\r\n1\nZ\n000\n\n",
      o);
  EXPECT_EQ(out.status, Status::kDone);
  EXPECT_EQ(out.body, "0123456789Z");
  // Chunked wins over Content-Length, and such a response closes the connection.
  out = Parse(
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nhi\r\n0\r\n\r\n",
      o);
  EXPECT_EQ(out.status, Status::kDone);
  EXPECT_EQ(out.body, "hi");
  EXPECT_FALSE(out.keep_alive);
}

TEST(ResponseParser, RejectsInvalidChunks) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const char* bad : {"zz\r\n", "\r\n", ";ext\r\n", "-1\r\n", "0x5\r\n", "5 6\r\nhello\r\n",
                          "5\rX", "5\r\nhelloXX0\r\n\r\n", "5\r\nhello\rX",
                          "10000000000000000\r\n",  // 2^64: overflows
                          "fffffffffffffffff\r\n"}) {
    Outcome o = Parse(head + bad, {.eof = true});
    EXPECT_EQ(o.status, Status::kError) << bad;
    EXPECT_EQ(o.error, ParseError::kBadChunk) << bad;
  }
  // The largest size parses; the body then ends early.
  Outcome o = Parse(head + "ffffffffffffffff\r\nabc", {.eof = true});
  EXPECT_EQ(o.error, ParseError::kTruncated);
  EXPECT_EQ(o.body_bytes, 3u);
  // Bad trailer lines are header errors.
  EXPECT_EQ(Parse(head + "0\r\nno colon\r\n\r\n").error, ParseError::kBadHeader);
}

TEST(ResponseParser, ChunkExtensionIsBounded) {
  Options o;
  o.limits.max_header_bytes = 256;
  std::string input = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" +
                      std::string(300, 'x') + "\r\na\r\n0\r\n\r\n";
  Outcome out = Parse(input, o);
  EXPECT_EQ(out.error, ParseError::kBadChunk);
  EXPECT_LT(out.consumed, 50u + 256u);
}

TEST(ResponseParser, NonChunkedTransferEncodingReadsUntilClose) {
  Outcome o =
      Parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nabcdef", {.eof = true});
  EXPECT_EQ(o.status, Status::kDone);
  EXPECT_EQ(o.body_bytes, 6u);
  EXPECT_FALSE(o.keep_alive);
  // HTTP/1.0 with Transfer-Encoding: parsed, then the connection is closed.
  o = Parse(
      "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\n");
  EXPECT_EQ(o.status, Status::kDone);
  EXPECT_FALSE(o.keep_alive);
}

TEST(ResponseParser, HeaderBlockOver64KiBIsRejectedWithoutBufferingMore) {
  std::string big = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(70 * 1024, 'a') + "\r\n\r\n";
  Outcome o = Parse(big);
  EXPECT_EQ(o.status, Status::kError);
  EXPECT_EQ(o.error, ParseError::kHeaderTooLarge);
  EXPECT_LE(o.consumed, 64u * 1024);  // never took more than the limit
  // Many small lines add up the same way.
  std::string many = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 100; ++i)
    many += "X-Filler-" + std::to_string(i) + ": " + std::string(700, 'b') + "\r\n";
  EXPECT_EQ(Parse(many + "\r\n").error, ParseError::kHeaderTooLarge);
}

TEST(ResponseParser, HeaderBlockExactlyAtTheLimitPasses) {
  Options o;
  o.limits.max_header_bytes = 64;
  std::string block = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX: ";
  block += std::string(64 - block.size() - 4, 'v') + "\r\n\r\n";
  ASSERT_EQ(block.size(), 64u);
  EXPECT_EQ(Parse(block, o).status, Status::kDone);
  block.insert(block.size() - 4, "v");
  EXPECT_EQ(Parse(block, o).error, ParseError::kHeaderTooLarge);
  // A line end can no longer fit once the limit is reached: fail without waiting for it.
  const std::string partial = "HTTP/1.1 200 " + std::string(64 - 13, 'x');
  EXPECT_EQ(Parse(partial, o).error, ParseError::kHeaderTooLarge);
  EXPECT_EQ(Parse(partial.substr(0, 63), o).status, Status::kNeedMore);
}

TEST(ResponseParser, TooManyHeaders) {
  std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n";
  for (int i = 1; i < 128; ++i) response += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(Parse(response + "\r\n").status, Status::kDone);  // exactly 128
  Outcome o = Parse(response + "X-One-More: v\r\n\r\n");
  EXPECT_EQ(o.error, ParseError::kTooManyHeaders);
}

TEST(ResponseParser, BodyTooLarge) {
  Options o;
  o.limits.max_body_bytes = 10;
  o.eof = true;
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", o).status,
            Status::kDone);
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", o).error,
            ParseError::kBodyTooLarge);
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "6\r\n012345\r\n5\r\n",
                  o)
                .error,
            ParseError::kBodyTooLarge);
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\n\r\n0123456789", o).status, Status::kDone);
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\n\r\n0123456789A", o).error, ParseError::kBodyTooLarge);
}

TEST(ResponseParser, EofBeforeTheEndIsTruncated) {
  const Options eof{.eof = true};
  Outcome o = Parse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly fifty bytes", eof);
  EXPECT_EQ(o.status, Status::kError);
  EXPECT_EQ(o.error, ParseError::kTruncated);
  EXPECT_EQ(o.body_bytes, 16u);
  EXPECT_TRUE(o.headers_complete);
  EXPECT_FALSE(o.keep_alive);
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nContent-Le", eof).error, ParseError::kTruncated);
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", eof).error,
            ParseError::kTruncated);
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", eof).error,
            ParseError::kTruncated);  // the trailer section never ended

  ResponseParser parser;
  EXPECT_EQ(parser.OnEof(), Status::kError);
  EXPECT_EQ(parser.error(), ParseError::kNoResponse);
}

TEST(ResponseParser, BodyDelimitedByClose) {
  Options o;
  o.capture_body = 4;
  std::string_view input = "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n\r\nuntil the end";
  ResponseParser parser;
  parser.set_capture(false, 4);
  size_t consumed = 0;
  EXPECT_EQ(parser.Feed(input.data(), input.size(), &consumed), Status::kNeedMore);
  EXPECT_TRUE(parser.headers_complete());
  EXPECT_EQ(consumed, input.size());

  o.eof = true;
  Outcome out = Parse(input, o);
  EXPECT_EQ(out.status, Status::kDone);
  EXPECT_EQ(out.body_bytes, 13u);
  EXPECT_EQ(out.body, "unti");
  EXPECT_TRUE(out.body_truncated);
  EXPECT_FALSE(out.keep_alive);
  // No body at all before the close is an empty body, not an error.
  EXPECT_EQ(Parse("HTTP/1.1 200 OK\r\n\r\n", o).status, Status::kDone);
}

TEST(ResponseParser, NoBodyForHead204And304EvenWithContentLength) {
  const std::string next = "HTTP/1.1 200 OK\r\n";
  for (const char* status : {"200 OK", "204 No Content", "304 Not Modified"}) {
    std::string head = std::string("HTTP/1.1 ") + status + "\r\nContent-Length: 42\r\n\r\n";
    Outcome o = Parse(head + next, {.head = std::string_view(status) == "200 OK"});
    EXPECT_EQ(o.status, Status::kDone) << status;
    EXPECT_EQ(o.consumed, head.size()) << status;
    EXPECT_EQ(o.body_bytes, 0u);
    EXPECT_TRUE(o.keep_alive);
  }
  // A 204 with a chunked header still has no body.
  const std::string head = "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(Parse(head + "0\r\n\r\n").consumed, head.size());
}

TEST(ResponseParser, SkipsInterimResponses) {
  Options o;
  o.capture_headers = true;
  std::string_view interim =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n";
  std::string input = std::string(interim) + std::string(kHello);
  Outcome out = Parse(input, o);
  EXPECT_EQ(out.status, Status::kDone);
  EXPECT_EQ(out.status_code, 200);
  EXPECT_EQ(out.body_bytes, 13u);
  EXPECT_EQ(out.header_bytes, interim.size() + kHelloHeaderBytes);
  ASSERT_EQ(out.headers.size(), 4u);  // the final response's only
  EXPECT_EQ(out.headers[0].first, "Server");

  // Not complete after the interim response alone.
  ResponseParser parser;
  size_t consumed = 0;
  EXPECT_EQ(parser.Feed(interim.data(), interim.size(), &consumed), Status::kNeedMore);
  EXPECT_FALSE(parser.headers_complete());

  const std::string upgrade = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
  out = Parse(upgrade + "\x81\x05hello");
  EXPECT_EQ(out.status, Status::kDone);
  EXPECT_EQ(out.status_code, 101);
  EXPECT_EQ(out.consumed, upgrade.size());  // what follows is not HTTP
  EXPECT_FALSE(out.keep_alive);
}

TEST(ResponseParser, PipelinedResponsesAreParsedOneAtATime) {
  std::string stream = std::string(kHello) + std::string(kChunked) + std::string(kHello);
  ResponseParser parser;
  size_t pos = 0;
  std::vector<uint64_t> bodies;
  while (pos < stream.size()) {
    parser.Reset();
    size_t consumed = 0;
    ASSERT_EQ(parser.Feed(stream.data() + pos, stream.size() - pos, &consumed), Status::kDone);
    bodies.push_back(parser.body_bytes());
    pos += consumed;
    ASSERT_GT(consumed, 0u);
  }
  EXPECT_EQ(bodies, (std::vector<uint64_t>{13, 13, 13}));
  EXPECT_EQ(pos, stream.size());

  // The second response's first bytes stay with the caller.
  parser.Reset();
  size_t consumed = 0;
  std::string two = std::string(kHello) + "HTTP/1.1 5";
  EXPECT_EQ(parser.Feed(two.data(), two.size(), &consumed), Status::kDone);
  EXPECT_EQ(consumed, kHello.size());
  // After kDone nothing more is consumed until Reset().
  EXPECT_EQ(parser.Feed(two.data() + consumed, 10, &consumed), Status::kDone);
  EXPECT_EQ(consumed, 0u);
}

TEST(ResponseParser, FeedAfterAnErrorConsumesNothing) {
  ResponseParser parser;
  size_t consumed = 0;
  EXPECT_EQ(parser.Feed("garbage\r\n", 9, &consumed), Status::kError);
  EXPECT_EQ(parser.Feed(kHello.data(), kHello.size(), &consumed), Status::kError);
  EXPECT_EQ(consumed, 0u);
  EXPECT_EQ(parser.OnEof(), Status::kError);
  EXPECT_EQ(parser.error(), ParseError::kBadStatusLine);
  parser.Reset();
  EXPECT_EQ(parser.Feed(kHello.data(), kHello.size(), &consumed), Status::kDone);
  EXPECT_EQ(parser.error(), ParseError::kNone);
}

TEST(ResponseParser, HeadersCompleteBeforeTheBody) {
  ResponseParser parser;
  size_t consumed = 0;
  EXPECT_EQ(parser.Feed(kHello.data(), kHelloHeaderBytes - 1, &consumed), Status::kNeedMore);
  EXPECT_FALSE(parser.headers_complete());
  EXPECT_EQ(parser.Feed(kHello.data() + kHelloHeaderBytes - 1, 2, &consumed), Status::kNeedMore);
  EXPECT_TRUE(parser.headers_complete());
  EXPECT_EQ(parser.status_code(), 200);
  EXPECT_EQ(parser.body_bytes(), 1u);
}

TEST(ResponseParser, WarmParserDoesNotAllocate) {
  ResponseParser parser;
  parser.set_capture(true, 64);
  const std::string big_body(100, 'x');
  const std::string input = std::string(kChunked) + std::string(kHello) +
                            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + big_body;
  // Parses the three pipelined responses, feeding at most `piece` bytes at a time.
  auto parse_all = [&](size_t piece) {
    size_t pos = 0;
    int done = 0;
    while (pos < input.size()) {
      parser.Reset();
      Status s = Status::kNeedMore;
      while (s == Status::kNeedMore && pos < input.size()) {
        size_t consumed = 0;
        s = parser.Feed(input.data() + pos, std::min(piece, input.size() - pos), &consumed);
        pos += consumed;
      }
      if (s != Status::kDone) return -1;
      ++done;
    }
    return done;
  };
  // Warm up every buffer, the split-line one included.
  ASSERT_EQ(parse_all(input.size()), 3);
  ASSERT_EQ(parse_all(1), 3);
  const char* body_data = parser.body().data();
  const char* fields_data = parser.header_name(0).data();
  const size_t before = g_allocations.load();
  for (size_t i = 0; i < 100; ++i) {
    ASSERT_EQ(parse_all(1 + i % 7), 3);
    ASSERT_EQ(parse_all(input.size()), 3);
  }
  EXPECT_EQ(g_allocations.load(), before);
  // The last response's capture, in the same buffers as after the warm-up.
  ASSERT_EQ(parser.header_count(), 1u);
  EXPECT_EQ(parser.header_value(0), "100");
  EXPECT_EQ(parser.body(), big_body.substr(0, 64));
  EXPECT_TRUE(parser.body_capture_truncated());
  EXPECT_EQ(parser.body().data(), body_data);
  EXPECT_EQ(parser.header_name(0).data(), fields_data);
}

TEST(ResponseParser, ErrorTextsAreDistinct) {
  std::vector<std::string> texts;
  for (int e = 0; e <= static_cast<int>(ParseError::kNoResponse); ++e) {
    texts.emplace_back(ErrorText(static_cast<ParseError>(e)));
    EXPECT_FALSE(texts.back().empty());
  }
  std::sort(texts.begin(), texts.end());
  EXPECT_EQ(std::unique(texts.begin(), texts.end()), texts.end());
}

}  // namespace
}  // namespace volley::engine
