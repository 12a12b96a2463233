// OTLP/HTTP over cpp-httplib (see otlp_transport.h).
#include <httplib.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <utility>

#include "otlp_transport.h"

namespace volley::output {
namespace {

constexpr Nanos kMaxConnectTimeout = std::chrono::seconds(3);

// (seconds, microseconds) of a positive duration, at least 1 ms.
std::pair<time_t, time_t> SecUsec(Nanos d) {
  const auto us = std::max<int64_t>(1000, d.count() / 1000);
  return {static_cast<time_t>(us / 1'000'000), static_cast<time_t>(us % 1'000'000)};
}

class HttpTransport final : public OtlpTransport {
 public:
  HttpTransport(const OtlpSettings& settings, OtlpUrlParts url)
      : url_(std::move(url)), client_(url_.scheme_host_port), gzip_(settings.gzip) {
    for (const auto& [k, v] : settings.headers) headers_.emplace(k, v);
    client_.set_keep_alive(true);
  }

  Result<OtlpHttpReply> Post(const std::string& body, Nanos timeout) override {
    if (canceled_.load()) return MakeError(ErrorCode::kIo, "cancelled (the output is stopping)");
    const auto [sec, usec] = SecUsec(timeout);
    const auto [csec, cusec] = SecUsec(std::min(timeout, kMaxConnectTimeout));
    client_.set_connection_timeout(csec, cusec);
    client_.set_read_timeout(sec, usec);
    client_.set_write_timeout(sec, usec);

    httplib::Request req;
    req.method = "POST";
    req.path = url_.path;
    req.headers = headers_;
    req.set_header("Content-Type", "application/x-protobuf");
    if (gzip_) req.set_header("Content-Encoding", "gzip");
    req.body = body;
    OtlpHttpReply reply;
    bool too_long = false;
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
      if (reply.body.size() + n > kMaxResponseBytes) {
        too_long = true;
        return false;
      }
      reply.body.append(data, n);
      return true;
    };
    httplib::Response res;
    httplib::Error error = httplib::Error::Success;
    if (!client_.send(req, res, error)) {
      if (too_long) {
        return MakeError(ErrorCode::kProtocol, "response body longer than 4 MiB");
      }
      if (canceled_.load()) return MakeError(ErrorCode::kIo, "cancelled (the output is stopping)");
      const ErrorCode code =
          error == httplib::Error::ConnectionTimeout ? ErrorCode::kTimeout : ErrorCode::kIo;
      std::string what = httplib::to_string(error);
      if (error == httplib::Error::Read) what += " (no answer in time, or the connection closed)";
      return MakeError(code, what);
    }
    reply.status = res.status;
    reply.retry_after = res.get_header_value("Retry-After");
    return reply;
  }

  void Cancel() override {
    canceled_.store(true);
    client_.stop();
  }

 private:
  const OtlpUrlParts url_;
  httplib::Client client_;  // Post on the exporter thread; stop() from any thread
  httplib::Headers headers_;
  const bool gzip_;
  std::atomic<bool> canceled_{false};
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
  return std::unique_ptr<OtlpTransport>(new HttpTransport(settings, std::move(*parts)));
}

}  // namespace volley::output
