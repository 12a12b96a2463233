// A loopback HTTP server (cpp-httplib) that records every request it receives and answers
// with handlers the test installs: the witness of what the scenario executor really sent
// (paths, query strings, headers, cookies, bodies).
#pragma once

#include <httplib.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace volley::fakes {

struct RecordedRequest {
  std::string method;
  std::string path;   // without the query
  std::string query;  // raw, after '?', as sent
  std::map<std::string, std::string> headers;  // lower-case names; the last of repeated ones
  std::string body;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

// Thread-safe: handlers run on the server's pool; tests read requests() after the run.
class RecordingServer {
 public:
  using Handler = std::function<void(const RecordedRequest&, httplib::Response&)>;

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
  httplib::Server server_;
  std::map<std::string, Handler> handlers_;
  mutable std::mutex mu_;
  std::vector<RecordedRequest> requests_;  // guarded by mu_
  std::thread thread_;
  int port_ = 0;
};

}  // namespace volley::fakes
