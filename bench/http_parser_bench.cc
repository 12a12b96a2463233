// Micro-benchmarks of the HTTP/1.1 response parser, the engine's per-response hot path.
// items/s is responses/s; bytes/s counts the whole response (header block and body).
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>

#include "http_response_parser.h"

namespace volley::engine {
namespace {

// A small keep-alive response: a 148-byte header block and a 13-byte body.
constexpr std::string_view kSmall =
    "HTTP/1.1 200 OK\r\n"
    "Server: nginx/1.25.3\r\n"
    "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 13\r\n"
    "Connection: keep-alive\r\n"
    "\r\n"
    "Hello, World!";

// The same body, chunked.
constexpr std::string_view kChunked =
    "HTTP/1.1 200 OK\r\n"
    "Server: nginx/1.25.3\r\n"
    "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
    "Content-Type: text/plain\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Connection: keep-alive\r\n"
    "\r\n"
    "d\r\nHello, World!\r\n"
    "0\r\n\r\n";

// Parses `response` once per iteration, fed in reads of at most `read_size` bytes.
void ParseResponse(benchmark::State& state, std::string_view response, bool capture,
                   size_t read_size) {
  ResponseParser parser;
  if (capture) parser.set_capture(true, 4096);
  for (auto _ : state) {
    parser.Reset();
    ResponseParser::Status status = ResponseParser::Status::kNeedMore;
    for (size_t pos = 0; pos < response.size();) {
      size_t consumed = 0;
      size_t n = std::min(read_size, response.size() - pos);
      status = parser.Feed(response.data() + pos, n, &consumed);
      pos += consumed;
    }
    if (status != ResponseParser::Status::kDone) {
      state.SkipWithError("the response did not parse");
      break;
    }
    benchmark::DoNotOptimize(parser.body_bytes());
    benchmark::DoNotOptimize(parser.keep_alive());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * response.size());
}

constexpr size_t kOneRead = SIZE_MAX;

BENCHMARK_CAPTURE(ParseResponse, small_keepalive, kSmall, false, kOneRead);
BENCHMARK_CAPTURE(ParseResponse, chunked, kChunked, false, kOneRead);
BENCHMARK_CAPTURE(ParseResponse, small_keepalive_capture, kSmall, true, kOneRead);
BENCHMARK_CAPTURE(ParseResponse, chunked_capture, kChunked, true, kOneRead);
// Header lines split across reads take the copying path.
BENCHMARK_CAPTURE(ParseResponse, small_keepalive_16_byte_reads, kSmall, false, 16);

// A 1 MiB body arriving in 16 KiB reads: the body is skipped by arithmetic.
void ParseLargeBody(benchmark::State& state) {
  const std::string response =
      "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + std::string(1 << 20, 'x');
  ParseResponse(state, response, false, 16 * 1024);
}
BENCHMARK(ParseLargeBody);

}  // namespace
}  // namespace volley::engine
