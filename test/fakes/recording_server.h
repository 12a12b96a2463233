// A loopback HTTP server (volley's http::HttpServer) that records every request it receives and
// answers with handlers the test installs: the witness of what the scenario executor really sent
// (paths, query strings, headers, cookies, bodies).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "volley/common/http_server.h"

namespace volley::fakes {

// What a handler answers: status, headers and a body with its type.
struct FakeResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type = "text/plain";
  void set_header(const std::string& name, const std::string& value) {
    headers.emplace_back(name, value);
  }
  void set_content(const std::string& text, const std::string& type) {
    body = text;
    content_type = type;
  }
};

struct RecordedRequest {
  std::string method;
  std::string path;                            // without the query
  std::string query;                           // raw, after '?', as sent
  std::map<std::string, std::string> headers;  // lower-case names; the last of repeated ones
  std::string body;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// Thread-safe: handlers run on the server's worker threads (16: a handler may sleep);
// tests read requests() after the run.
class RecordingServer {
 public:
  using Handler = std::function<void(const RecordedRequest&, FakeResponse&)>;

  RecordingServer();
  ~RecordingServer();

  // Installs the answer for `path` (exact match, any method). Before Start().
  void On(const std::string& path, Handler handler);
  // Binds 127.0.0.1 on an ephemeral port and serves on a thread of its own.
  void Start();
  void Stop();
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<RecordedRequest> requests() const;
  // Requests to `path`, in arrival order.
  std::vector<RecordedRequest> requests_to(const std::string& path) const;

 private:
  void Handle(const http::Request& req, http::Response& res);

  std::map<std::string, Handler> handlers_;  // filled before Start()
  mutable std::mutex mu_;
  std::vector<RecordedRequest> requests_;  // guarded by mu_
  std::unique_ptr<http::HttpServer> server_;
  int port_ = 0;
};

}  // namespace volley::fakes
