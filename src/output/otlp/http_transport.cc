// OTLP/HTTP over http::HttpClient (see otlp_transport.h).
#include <zlib.h>

#include <algorithm>
#include <utility>

#include "otlp_transport.h"
#include "volley/common/http_client.h"

namespace volley::output {
namespace {

constexpr Nanos kMaxConnectTimeout = std::chrono::seconds(3);

class HttpTransport final : public OtlpTransport {
 public:
  HttpTransport(const OtlpSettings& settings, std::string url)
      : url_(std::move(url)), gzip_(settings.gzip) {
    for (const auto& [k, v] : settings.headers) headers_.Add(k, v);
  }

  Result<OtlpHttpReply> Post(const std::string& body, Nanos timeout) override {
    http::ClientRequest req;
    req.url = url_;
    req.headers = headers_;
    req.headers.Set("Content-Type", "application/x-protobuf");
    if (gzip_) req.headers.Set("Content-Encoding", "gzip");
    req.body = body;
    req.timeout = timeout;
    req.connect_timeout = std::min(timeout, kMaxConnectTimeout);
    req.max_response_bytes = kMaxResponseBytes;
    auto res = client_.Send(req);
    if (!res) {
      Error e = res.error();
      if (e.code == ErrorCode::kTls || e.code == ErrorCode::kInvalidArgument)
        e.code = ErrorCode::kIo;
      return tl::unexpected(e);
    }
    OtlpHttpReply reply;
    reply.status = res->status;
    reply.body = std::move(res->body);
    reply.retry_after = std::string(res->headers.Get("Retry-After"));
    return reply;
  }

  void Cancel() override { client_.Cancel(); }

 private:
  const std::string url_;
  http::HttpClient client_;  // Send on the exporter thread; Cancel from any thread
  http::Headers headers_;
  const bool gzip_;
};

}  // namespace

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
  return std::unique_ptr<OtlpTransport>(new HttpTransport(settings, settings.endpoint));
}

}  // namespace volley::output
