// How the OTLP exporter reaches its endpoint: an interface (so tests script answers and
// hangs without a network) and the OTLP/HTTP implementation on http::HttpClient (libcurl).
#pragma once

#include <memory>
#include <string>

#include "volley/common/clock.h"
#include "volley/common/result.h"
#include "volley/output/otlp_output.h"

namespace volley::output {

// An answer of the endpoint (any status; classifying it is the exporter's job).
struct OtlpHttpReply {
  int status = 0;
  std::string body;         // at most kMaxResponseBytes
  std::string retry_after;  // the Retry-After header, "" if absent
};

class OtlpTransport {
 public:
  // Response bodies longer than this are cut off (the request then fails as kProtocol):
  // the spec recommends 4 MiB as the response limit.
  static constexpr size_t kMaxResponseBytes = 4u << 20;

  virtual ~OtlpTransport() = default;

  // POSTs one encoded ExportMetricsServiceRequest (already gzipped if the settings ask for
  // it) and returns the answer, whatever its status. Gives up after `timeout` (for
  // connecting and for each read or write). Errors (all retryable): kIo (connect refused,
  // reset, cancelled), kTimeout, kProtocol (an answer that is not HTTP, or too long).
  // Called from the exporter thread only, one call at a time.
  virtual Result<OtlpHttpReply> Post(const std::string& body, Nanos timeout) = 0;

  // Thread-safe, callable while Post runs on another thread: makes the running Post (if
  // any) fail soon with kIo, and every later Post fail at once. Used by Stop() when its
  // deadline passes. Never blocks for longer than a connect attempt.
  virtual void Cancel() = 0;
};

// OTLP/HTTP on http::HttpClient: `Content-Type: application/x-protobuf`, `Content-Encoding:
// gzip` when settings.gzip, settings.headers, connections reused between requests, proxy
// variables and the system CA store as curl honours them. Connect attempts are capped at
// 3 s. Errors: kInvalidArgument when the endpoint URL is not http(s)://host[:port]/path.
Result<std::unique_ptr<OtlpTransport>> MakeHttpTransport(const OtlpSettings& settings);

// "http://host:port" and "/path?query" of an http(s) URL. Errors: kInvalidArgument.
struct OtlpUrlParts {
  std::string scheme_host_port;
  std::string path;
};
Result<OtlpUrlParts> SplitOtlpUrl(const std::string& url);

// `data` compressed as one gzip member (zlib, default level). Errors: kInternal.
Result<std::string> GzipCompress(const std::string& data);

}  // namespace volley::output
