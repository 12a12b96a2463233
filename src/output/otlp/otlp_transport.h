// How the OTLP exporter reaches its endpoint: the delivery path's transport (so tests
// script answers and hangs without a network) set up for OTLP/HTTP.
#pragma once

#include <memory>
#include <string>

#include "volley/common/clock.h"
#include "volley/common/result.h"
#include "volley/output/delivery.h"
#include "volley/output/otlp_output.h"

namespace volley::output {

// The OTLP exporter reaches its endpoint through the delivery path's transport interface.
using OtlpHttpReply = delivery::DeliveryReply;

// OTLP/HTTP on delivery::MakeHttpTransport: `Content-Type: application/x-protobuf`,
// `Content-Encoding: gzip` when settings.gzip, settings.headers. Connect attempts are
// capped at 3 s. Errors: kInvalidArgument when the endpoint URL is not http(s)://host[:port]/path.
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
