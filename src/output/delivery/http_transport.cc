// DeliveryTransport on http::HttpClient (see volley/output/delivery.h).
#include <algorithm>
#include <utility>

#include "volley/output/delivery.h"

namespace volley::output::delivery {
namespace {

class HttpTransport final : public DeliveryTransport {
 public:
  explicit HttpTransport(HttpTransportOptions options) : options_(std::move(options)) {}

  Result<DeliveryReply> Post(const DeliveryRequest& request, Nanos timeout) override {
    http::ClientRequest req;
    req.url = options_.url;
    req.headers = options_.headers;
    if (!options_.idempotency_header.empty() && !request.idempotency_key.empty()) {
      req.headers.Set(options_.idempotency_header, request.idempotency_key);
    }
    req.body = std::string(request.body);
    req.timeout = timeout;
    req.connect_timeout = std::min(timeout, options_.max_connect_timeout);
    req.max_response_bytes = options_.max_response_bytes;
    req.truncate_response = options_.truncate_response;
    req.fresh_connection = MonotonicNow() - last_used_ > options_.max_idle;
    auto res = client_.Send(req);
    last_used_ = MonotonicNow();
    if (!res) {
      Error e = res.error();
      if (e.code != ErrorCode::kTimeout && e.code != ErrorCode::kProtocol) e.code = ErrorCode::kIo;
      return tl::unexpected(e);
    }
    DeliveryReply reply;
    reply.status = res->status;
    reply.body = std::move(res->body);
    reply.retry_after = std::string(res->headers.Get("Retry-After"));
    return reply;
  }

  void Cancel() override { client_.Cancel(); }

 private:
  const HttpTransportOptions options_;
  http::HttpClient client_;  // Send on the sender thread; Cancel from any thread
  Nanos last_used_{0};       // MonotonicNow() at the end of the last Post (sender thread)
};

}  // namespace

std::unique_ptr<DeliveryTransport> MakeHttpTransport(HttpTransportOptions options) {
  return std::make_unique<HttpTransport>(std::move(options));
}

}  // namespace volley::output::delivery
