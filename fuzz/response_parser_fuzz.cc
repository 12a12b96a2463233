// libFuzzer target for the HTTP/1.1 response parser (src/engine/http_response_parser.h).
//
// Input: 4 control bytes, then the bytes a server sent.
//   byte 0: bit 0 small limits, bit 1 response to HEAD, bit 2 call OnEof() at the end,
//           bits 3-7 body capture size / 4.
//   bytes 1-3: read sizes (each + 1), cycled, for the split feed.
// Parses the pipelined responses twice, in one piece without capture and in pieces with
// capture, and checks that both agree and that the invariants hold.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fuzz_check.h"
#include "http_response_parser.h"

namespace {

using volley::engine::ParseError;
using volley::engine::ResponseParser;
using Status = ResponseParser::Status;

struct Run {
  Status status = Status::kNeedMore;
  size_t consumed = 0;
};

// Feeds `input` in pieces whose sizes cycle through `sizes`, stopping like a connection would.
Run FeedPieces(ResponseParser& parser, std::string_view input, const uint8_t* sizes) {
  Run run;
  for (size_t i = 0; run.consumed < input.size() && run.status == Status::kNeedMore; ++i) {
    const size_t n = std::min<size_t>(sizes[i % 3] + 1u, input.size() - run.consumed);
    size_t consumed = n + 1;
    run.status = parser.Feed(input.data() + run.consumed, n, &consumed);
    FUZZ_CHECK(consumed <= n);
    FUZZ_CHECK(run.status != Status::kNeedMore || consumed == n);
    run.consumed += consumed;
  }
  return run;
}

void CheckInvariants(const ResponseParser& p, Status status, size_t consumed, size_t capture) {
  FUZZ_CHECK(p.total_bytes() == consumed);
  FUZZ_CHECK(p.header_bytes() + p.body_bytes() <= p.total_bytes());
  FUZZ_CHECK(p.body_bytes() <= p.limits().max_body_bytes);
  FUZZ_CHECK((status == Status::kError) == (p.error() != ParseError::kNone));
  FUZZ_CHECK((status == Status::kDone) == p.done());
  FUZZ_CHECK(volley::engine::ErrorText(p.error()) != nullptr);
  if (p.headers_complete()) {
    FUZZ_CHECK(p.status_code() >= 200 || p.status_code() == 101);
    FUZZ_CHECK(p.status_code() <= 999);
  } else {
    FUZZ_CHECK(p.body_bytes() == 0);
    FUZZ_CHECK(status != Status::kDone);
  }
  if (status == Status::kError) FUZZ_CHECK(!p.keep_alive());
  FUZZ_CHECK(p.body().size() == std::min<uint64_t>(p.body_bytes(), capture));
  if (capture != 0) FUZZ_CHECK(p.body_capture_truncated() == (p.body_bytes() > capture));
  FUZZ_CHECK(p.header_count() <= p.limits().max_headers);
  for (size_t i = 0; i < p.header_count(); ++i) {
    auto found = p.FindHeader(p.header_name(i));
    FUZZ_CHECK(found.has_value());
    FUZZ_CHECK(!p.header_name(i).empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint8_t flags = data[0];
  const uint8_t* sizes = data + 1;
  const std::string_view input(reinterpret_cast<const char*>(data + 4), size - 4);
  ResponseParser::Limits limits;
  if (flags & 1) {
    limits.max_header_bytes = 256;
    limits.max_headers = 8;
    limits.max_body_bytes = 1024;
  }
  const bool head = flags & 2;
  const bool eof = flags & 4;
  const size_t capture = (flags >> 3) * 4u;

  ResponseParser whole(limits);
  ResponseParser split(limits);
  split.set_capture(true, capture);
  size_t pos = 0;
  for (int response = 0; response < 16 && pos < input.size(); ++response) {
    const std::string_view rest = input.substr(pos);
    whole.Reset(head);
    split.Reset(head);
    Run a;
    a.status = whole.Feed(rest.data(), rest.size(), &a.consumed);
    FUZZ_CHECK(a.consumed <= rest.size());
    FUZZ_CHECK(a.status != Status::kNeedMore || a.consumed == rest.size());
    Run b = FeedPieces(split, rest, sizes);
    if (eof && a.status == Status::kNeedMore) a.status = whole.OnEof();
    if (eof && b.status == Status::kNeedMore) b.status = split.OnEof();
    CheckInvariants(whole, a.status, a.consumed, 0);
    CheckInvariants(split, b.status, b.consumed, capture);

    // However the bytes were split and whether or not they were captured, the verdict is
    // the same; only how far a failing parse got may differ.
    FUZZ_CHECK(a.status == b.status);
    FUZZ_CHECK(whole.error() == split.error());
    FUZZ_CHECK(whole.status_code() == split.status_code());
    FUZZ_CHECK(whole.keep_alive() == split.keep_alive());
    FUZZ_CHECK(whole.headers_complete() == split.headers_complete());
    FUZZ_CHECK(whole.body_bytes() == split.body_bytes());
    FUZZ_CHECK(whole.header_bytes() == split.header_bytes());
    if (a.status == Status::kError) break;
    FUZZ_CHECK(a.consumed == b.consumed);
    if (a.status != Status::kDone || a.consumed == 0) break;
    pos += a.consumed;
  }
  return 0;
}
