// The one HTTP client of volley's outputs and services (cloud and OTLP pushers, later
// Consul and GCS), on libcurl (kept out of this header). Not the load engine's client.
//
// What libcurl brings: connection reuse across requests of one HttpClient, HTTP/2 over
// TLS when the server offers it, the system CA store for https, and the user's proxy
// variables (`http_proxy`, `HTTPS_PROXY`, `NO_PROXY`), honoured as curl does.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "volley/common/clock.h"
#include "volley/common/http_server.h"
#include "volley/common/result.h"

namespace volley::http {

struct ClientRequest {
  std::string method = "POST";
  std::string url;  // http(s)://host[:port]/path?query, as given to curl
  Headers headers;  // sent as given (no `Expect: 100-continue` is added)
  std::string body;
  Nanos timeout = std::chrono::seconds(10);         // the whole exchange
  Nanos connect_timeout = std::chrono::seconds(3);  // connecting, within `timeout`
  size_t max_response_bytes = 4u << 20;             // longer: kProtocol (or truncated, below)
  bool truncate_response = false;  // keep the first max_response_bytes instead of failing
  bool fresh_connection = false;   // do not reuse a kept connection for this request
};

struct ClientResponse {
  int status = 0;
  Headers headers;   // of the final response (no 100 Continue's)
  std::string body;  // at most max_response_bytes
};

// One client: a libcurl easy handle and the connections it keeps. Send() is called by one
// thread at a time; Cancel() may be called from any thread.
class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One request; any HTTP status is a response. Errors: kTimeout (connect or exchange
  // deadline), kTls (handshake or certificate), kProtocol (not HTTP, or a body over the
  // limit), kIo (refused, reset, DNS, cancelled), kInvalidArgument (a URL curl refuses).
  // Messages name the URL's host, never header values (tokens).
  Result<ClientResponse> Send(const ClientRequest& request);

  // Makes the running Send (if any) fail within a few milliseconds with kIo "cancelled",
  // and every later Send fail at once. Thread-safe, never blocks.
  void Cancel() { cancelled_.store(true, std::memory_order_release); }
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace volley::http
