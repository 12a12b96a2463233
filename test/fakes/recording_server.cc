#include "fakes/recording_server.h"

#include <algorithm>
#include <cctype>
#include <chrono>

namespace volley::fakes {

RecordingServer::RecordingServer() {
  server_.set_keep_alive_max_count(1000000);
  // Headers and body go out in two writes: without TCP_NODELAY, Nagle and delayed ACKs
  // would add up to 40 ms to every response with a body.
  server_.set_tcp_nodelay(true);
  // httplib serves each keep-alive connection on one pool thread for its whole life: the
  // pool must be larger than the most connections a test opens (20).
  server_.new_task_queue = [] { return new httplib::ThreadPool(48); };
  auto handle = [this](const httplib::Request& req, httplib::Response& res) {
    RecordedRequest r;
    r.method = req.method;
    r.path = req.path;
    const size_t q = req.target.find('?');
    if (q != std::string::npos) r.query = req.target.substr(q + 1);
    for (const auto& [name, value] : req.headers) {
      std::string lower = name;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      r.headers[lower] = value;
    }
    r.body = req.body;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(r);
    }
    auto it = handlers_.find(req.path);
    if (it == handlers_.end()) {
      res.status = 404;
      res.set_content("no handler", "text/plain");
      return;
    }
    it->second(r, res);
  };
  server_.Get(".*", handle);
  server_.Post(".*", handle);
  server_.Put(".*", handle);
  server_.Delete(".*", handle);
  server_.Patch(".*", handle);
}

RecordingServer::~RecordingServer() { Stop(); }

void RecordingServer::On(const std::string& path, Handler handler) {
  handlers_[path] = std::move(handler);
}

void RecordingServer::Start() {
  port_ = server_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  // Debian's httplib has no wait_until_ready(): wait for the listen loop, bounded.
  for (int i = 0; i < 5000 && !server_.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void RecordingServer::Stop() {
  if (!thread_.joinable()) return;
  server_.stop();
  thread_.join();
}

std::vector<RecordedRequest> RecordingServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::vector<RecordedRequest> RecordingServer::requests_to(const std::string& path) const {
  std::vector<RecordedRequest> out;
  for (auto& r : requests()) {
    if (r.path == path) out.push_back(std::move(r));
  }
  return out;
}

}  // namespace volley::fakes
