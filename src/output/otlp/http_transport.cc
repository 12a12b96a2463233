// OTLP/HTTP on the delivery path's HTTP transport (see otlp_transport.h).
#include <zlib.h>

#include <algorithm>
#include <utility>

#include "otlp_transport.h"

namespace volley::output {

Result<OtlpUrlParts> SplitOtlpUrl(const std::string& url) {
  const size_t scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "OTLP endpoint '" + url +
                         "': must start with http:// or https:// (e.g. http://localhost:4318)");
  }
  const size_t host_start = scheme_end + 3;
  const size_t path_start = url.find_first_of("/?#", host_start);
  const std::string authority = url.substr(host_start, path_start - host_start);
  if (authority.empty() || authority.find('@') != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "OTLP endpoint '" + url + "': needs a host (http://HOST[:PORT]/PATH)");
  }
  OtlpUrlParts parts;
  parts.scheme_host_port = scheme + "://" + authority;
  parts.path = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (parts.path[0] != '/') parts.path = "/" + parts.path;
  if (const size_t hash = parts.path.find('#'); hash != std::string::npos) {
    parts.path.resize(hash);
  }
  return parts;
}

Result<std::string> GzipCompress(const std::string& data) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return MakeError(ErrorCode::kInternal, "gzip: deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const size_t written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return MakeError(ErrorCode::kInternal, "gzip: deflate failed");
  out.resize(written);
  return out;
}

Result<std::unique_ptr<OtlpTransport>> MakeHttpTransport(const OtlpSettings& settings) {
  auto parts = SplitOtlpUrl(settings.endpoint);
  if (!parts) return tl::unexpected(parts.error());
  delivery::HttpTransportOptions options;
  options.url = settings.endpoint;
  for (const auto& [k, v] : settings.headers) options.headers.Add(k, v);
  options.headers.Set("Content-Type", "application/x-protobuf");
  if (settings.gzip) options.headers.Set("Content-Encoding", "gzip");
  return delivery::MakeHttpTransport(std::move(options));
}

}  // namespace volley::output
