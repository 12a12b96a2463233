#include "request_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace volley::target {
namespace {

// Feeds `input` the way a connection does (keeping unconsumed bytes, adding `step` new bytes
// at a time) and records the events other than kNeedMore.
struct Fed {
  std::vector<ParseEvent> events;
  std::vector<RequestInfo> requests;  // at each kComplete
  size_t left = 0;                    // bytes never consumed
};

Fed FeedAll(const std::string& input, size_t step) {
  RequestParser parser;
  Fed out;
  std::string buffer;
  size_t pos = 0;
  while (pos < input.size() || !buffer.empty()) {
    const size_t add = std::min(step, input.size() - pos);
    buffer.append(input, pos, add);
    pos += add;
    for (;;) {
      const ParseStep s = parser.Feed(buffer.data(), buffer.size());
      buffer.erase(0, s.consumed);
      if (s.event == ParseEvent::kNeedMore) break;
      out.events.push_back(s.event);
      if (s.event == ParseEvent::kComplete) out.requests.push_back(parser.request());
      if (s.event == ParseEvent::kError) {
        out.requests.push_back(parser.request());
        out.left = buffer.size() + input.size() - pos;
        return out;
      }
    }
    if (add == 0) break;
  }
  out.left = buffer.size();
  return out;
}

TEST(RequestParserTest, ParsesAGetInOneStep) {
  RequestParser p;
  const std::string req = "GET /x?y=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n";
  const ParseStep s = p.Feed(req.data(), req.size());
  EXPECT_EQ(s.event, ParseEvent::kComplete);
  EXPECT_EQ(s.consumed, req.size());
  EXPECT_EQ(p.request().method, Method::kGet);
  EXPECT_EQ(p.request().version_minor, 1);
  EXPECT_TRUE(p.request().keep_alive);
  EXPECT_FALSE(p.request().has_body);
  EXPECT_EQ(p.request().control, Control::kNone);
}

TEST(RequestParserTest, NeedsTheWholeHeadBeforeReporting) {
  RequestParser p;
  const std::string part = "GET / HTTP/1.1\r\nHost: a\r\n\r";
  const ParseStep s = p.Feed(part.data(), part.size());
  EXPECT_EQ(s.event, ParseEvent::kNeedMore);
  EXPECT_EQ(s.consumed, 0u);
}

const std::string kMixed =
    "\r\nGET /a HTTP/1.1\r\nHost: a\r\n\r\n"
    "POST /b HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world"
    "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    "3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nTrailer: 1\r\n\r\n"
    "HEAD /d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    "GET /e HTTP/1.1\nConnection: Upgrade, close\n\n";

class SplitFeedTest : public ::testing::TestWithParam<size_t> {};

TEST_P(SplitFeedTest, FindsEveryRequestWhateverTheReadSizes) {
  const Fed fed = FeedAll(kMixed, GetParam());
  ASSERT_EQ(fed.requests.size(), 5u);
  EXPECT_EQ(fed.left, 0u);
  EXPECT_EQ(fed.events,
            (std::vector<ParseEvent>{
                ParseEvent::kComplete, ParseEvent::kHead, ParseEvent::kComplete, ParseEvent::kHead,
                ParseEvent::kComplete, ParseEvent::kComplete, ParseEvent::kComplete}));
  EXPECT_EQ(fed.requests[1].content_length, 11u);
  EXPECT_TRUE(fed.requests[2].chunked);
  EXPECT_EQ(fed.requests[3].method, Method::kHead);
  EXPECT_EQ(fed.requests[3].version_minor, 0);
  EXPECT_TRUE(fed.requests[3].keep_alive);
  EXPECT_FALSE(fed.requests[4].keep_alive);
}

INSTANTIATE_TEST_SUITE_P(ReadSizes, SplitFeedTest, ::testing::Values(1, 2, 3, 7, 64, 100000));

TEST(RequestParserTest, KeepAliveDefaultsFollowTheVersion) {
  const Fed fed = FeedAll(
      "GET / HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\nConnection: CLOSE\r\n\r\n"
      "GET / HTTP/1.2\r\n\r\n",
      1000);
  ASSERT_EQ(fed.requests.size(), 4u);
  EXPECT_FALSE(fed.requests[0].keep_alive);
  EXPECT_TRUE(fed.requests[1].keep_alive);
  EXPECT_FALSE(fed.requests[2].keep_alive);
  EXPECT_EQ(fed.requests[3].version_minor, 1);
}

TEST(RequestParserTest, RecognisesControlPaths) {
  const Fed fed = FeedAll(
      "GET /__volley/stats HTTP/1.1\r\n\r\nPOST /__volley/reset?x HTTP/1.1\r\n\r\n"
      "GET /__volley/other HTTP/1.1\r\n\r\nGET /__volley HTTP/1.1\r\n\r\n",
      1000);
  ASSERT_EQ(fed.requests.size(), 4u);
  EXPECT_EQ(fed.requests[0].control, Control::kStats);
  EXPECT_EQ(fed.requests[1].control, Control::kReset);
  EXPECT_EQ(fed.requests[1].method, Method::kPost);
  EXPECT_EQ(fed.requests[2].control, Control::kUnknown);
  EXPECT_EQ(fed.requests[3].control, Control::kNone);
}

TEST(RequestParserTest, ExpectContinueOnlyWithABodyInHttp11) {
  const Fed fed = FeedAll(
      "POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx"
      "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
      1000);
  ASSERT_EQ(fed.requests.size(), 2u);
  EXPECT_TRUE(fed.requests[0].expect_continue);
  EXPECT_FALSE(fed.requests[1].expect_continue);
}

TEST(RequestParserTest, RepeatedEqualContentLengthIsAccepted) {
  const Fed fed =
      FeedAll("POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nab", 1000);
  ASSERT_EQ(fed.requests.size(), 1u);
  EXPECT_EQ(fed.requests[0].content_length, 2u);
}

struct ErrorCase {
  const char* name;
  std::string input;
  int status;
};

class ParserErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParserErrorTest, RejectsWithTheRightStatus) {
  for (size_t step : {size_t{1}, size_t{100000}}) {
    const Fed fed = FeedAll(GetParam().input, step);
    ASSERT_FALSE(fed.events.empty()) << "step " << step;
    EXPECT_EQ(fed.events.back(), ParseEvent::kError) << "step " << step;
    EXPECT_EQ(fed.requests.back().error_status, GetParam().status) << "step " << step;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParserErrorTest,
    ::testing::Values(
        ErrorCase{"NoTarget", "GET\r\n\r\n", 400},
        ErrorCase{"EmptyTarget", "GET  HTTP/1.1\r\n\r\n", 400},
        ErrorCase{"BadMethodChar", "G(T / HTTP/1.1\r\n\r\n", 400},
        ErrorCase{"LowerVersion", "GET / http/1.1\r\n\r\n", 400},
        ErrorCase{"Http09", "GET / HTTP/0.9\r\n\r\n", 505},
        ErrorCase{"Http3", "GET / HTTP/3.0\r\n\r\n", 505},
        ErrorCase{"SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
        ErrorCase{"EmptyName", "GET / HTTP/1.1\r\n: a\r\n\r\n", 400},
        ErrorCase{"ControlInValue", std::string("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n"), 400},
        ErrorCase{"BareCrInValue", "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 400},
        ErrorCase{"Folding", "GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n", 400},
        ErrorCase{"NegativeLength", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
        ErrorCase{"HugeLength", "POST / HTTP/1.1\r\nContent-Length: 1234567890123456789\r\n\r\n",
                  400},
        ErrorCase{"ConflictingLengths",
                  "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
        ErrorCase{"ChunkedTwice", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
                  400},
        ErrorCase{"ChunkedNotLast", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                  400},
        ErrorCase{"OtherCoding", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                  501},
        ErrorCase{"ChunkedInHttp10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        ErrorCase{"ChunkSizeNotHex", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
                  400},
        ErrorCase{"ChunkSizeOverflow",
                  "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
                  400},
        ErrorCase{"ChunkTooLong",
                  "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", 400},
        ErrorCase{
            "ChunkLineTooLong",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;" + std::string(2000, 'e'),
            400},
        ErrorCase{"TlsHelloWithoutNewline", std::string("\x16\x03\x01\x02\x00\x01\x00", 7), 400},
        ErrorCase{"EndlessMethod", std::string(100, 'A'), 400},
        ErrorCase{"EndlessHeaders", "GET / HTTP/1.1\r\nX: " + std::string(20000, 'a'), 400}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

std::string HeadOfSize(size_t size) {
  const std::string start = "GET / HTTP/1.1\r\nX: ";
  return start + std::string(size - start.size() - 4, 'a') + "\r\n\r\n";
}

TEST(RequestParserTest, HeadLimitIsSixteenKibInclusive) {
  const Fed fits = FeedAll(HeadOfSize(kMaxHeaderBytes), 4096);
  ASSERT_EQ(fits.events, std::vector<ParseEvent>{ParseEvent::kComplete});
  const Fed over = FeedAll(HeadOfSize(kMaxHeaderBytes + 1), 4096);
  ASSERT_EQ(over.events, std::vector<ParseEvent>{ParseEvent::kError});
  EXPECT_EQ(over.requests.back().error_status, 400);
}

TEST(RequestParserTest, StaysFailedAfterAnError) {
  RequestParser p;
  const std::string bad = "BAD\r\n\r\nGET / HTTP/1.1\r\n\r\n";
  EXPECT_EQ(p.Feed(bad.data(), bad.size()).event, ParseEvent::kError);
  EXPECT_TRUE(p.failed());
  EXPECT_EQ(p.Feed(bad.data() + 7, bad.size() - 7).event, ParseEvent::kError);
  p.Reset();
  EXPECT_EQ(p.Feed(bad.data() + 7, bad.size() - 7).event, ParseEvent::kComplete);
}

}  // namespace
}  // namespace volley::target
