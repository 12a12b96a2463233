// HttpClient on libcurl (http_client.h).
#include "volley/common/http_client.h"

#include <curl/curl.h>

#include <mutex>

#include "volley/common/strings.h"

namespace volley::http {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

long Millis(Nanos d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return ms < 1 ? 1 : static_cast<long>(ms);
}

// scheme://host[:port] of a URL, for messages (never its path or query).
std::string Origin(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url.substr(0, 64);
  const size_t end = url.find_first_of("/?#", scheme + 3);
  std::string origin = url.substr(0, end);
  if (const size_t at = origin.find('@'); at != std::string::npos) {
    origin = origin.substr(0, scheme + 3) + origin.substr(at + 1);  // drop user:password
  }
  return origin;
}

}  // namespace

struct HttpClient::Impl {
  CURL* curl = nullptr;
  ~Impl() {
    if (curl) curl_easy_cleanup(curl);
  }
};

namespace {

struct Transfer {
  const ClientRequest* request;
  const std::atomic<bool>* cancelled;
  ClientResponse response;
  bool too_long = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  const size_t room = t->request->max_response_bytes - t->response.body.size();
  if (len > room) {
    t->response.body.append(data, room);
    if (t->request->truncate_response) return len;  // keep reading, drop the rest
    t->too_long = true;
    return 0;  // CURLE_WRITE_ERROR
  }
  t->response.body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->response.headers = Headers();  // a new response (after 100 Continue, a redirect)
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->response.headers.Add(std::string(Trim(line.substr(0, colon))),
                            std::string(Trim(line.substr(colon + 1))));
  }
  return size * n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<Transfer*>(user)->cancelled->load(std::memory_order_acquire) ? 1 : 0;
}

}  // namespace

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) {
  GlobalInit();
  impl_->curl = curl_easy_init();
}

HttpClient::~HttpClient() = default;

Result<ClientResponse> HttpClient::Send(const ClientRequest& request) {
  const std::string origin = Origin(request.url);
  if (cancelled()) return MakeError(ErrorCode::kIo, origin + ": cancelled (stopping)");
  CURL* c = impl_->curl;
  if (c == nullptr) return MakeError(ErrorCode::kInternal, "libcurl: curl_easy_init failed");
  // Options last between requests of a handle: set each one every time.
  curl_easy_reset(c);
  Transfer t{&request, &cancelled_, {}, false};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers.fields()) {
    headers = curl_slist_append(headers, (k + ": " + v).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, Millis(request.timeout));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   Millis(std::min(request.connect_timeout, request.timeout)));
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, request.fresh_connection ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  if (request.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    if (request.method != "POST")
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    const std::string what = origin + ": " + (errbuf[0] ? errbuf : curl_easy_strerror(rc));
    switch (rc) {
      case CURLE_ABORTED_BY_CALLBACK:
        return MakeError(ErrorCode::kIo, origin + ": cancelled (stopping)");
      case CURLE_WRITE_ERROR:
        if (t.too_long) {
          return MakeError(ErrorCode::kProtocol, origin + ": response body longer than " +
                                                     std::to_string(request.max_response_bytes) +
                                                     " bytes");
        }
        return MakeError(ErrorCode::kIo, what);
      case CURLE_OPERATION_TIMEDOUT:
        return MakeError(ErrorCode::kTimeout, what);
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return MakeError(ErrorCode::kInvalidArgument, what);
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CIPHER:
      case CURLE_SSL_CACERT_BADFILE:
        return MakeError(ErrorCode::kTls, what);
      case CURLE_WEIRD_SERVER_REPLY:
      case CURLE_RECV_ERROR:
      case CURLE_GOT_NOTHING:
        return MakeError(rc == CURLE_WEIRD_SERVER_REPLY ? ErrorCode::kProtocol : ErrorCode::kIo,
                         what);
      default:
        return MakeError(ErrorCode::kIo, what);
    }
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  t.response.status = static_cast<int>(status);
  return std::move(t.response);
}

}  // namespace volley::http
