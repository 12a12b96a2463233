#include "fakes/recording_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

namespace volley::fakes {

RecordingServer::RecordingServer() = default;

RecordingServer::~RecordingServer() { Stop(); }

void RecordingServer::On(const std::string& path, Handler handler) {
  handlers_[path] = std::move(handler);
}

void RecordingServer::Handle(const http::Request& req, http::Response& res) {
  RecordedRequest r;
  r.method = req.method;
  r.path = req.path;
  r.query = req.query;
  for (const auto& [name, value] : req.headers.fields()) {
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
    res.body = "no handler";
    return;
  }
  FakeResponse answer;
  it->second(r, answer);
  res.status = answer.status;
  res.content_type = answer.content_type;
  res.body = std::move(answer.body);
  for (auto& [k, v] : answer.headers) res.headers.Add(k, v);
}

void RecordingServer::Start() {
  http::Router router;  // every method and path: the not-found handler records them all
  router.SetNotFound([this](const http::Request& req, http::Response& res) { Handle(req, res); });
  http::ServerOptions o;
  o.name = "recording server";
  o.worker_threads = 16;
  o.max_body_bytes = 64u << 20;
  o.shutdown_grace = std::chrono::milliseconds(500);
  auto server = http::HttpServer::Start({"127.0.0.1", 0}, o, std::move(router));
  ASSERT_TRUE(server) << server.error().message;
  server_ = std::move(*server);
  port_ = server_->port();
}

void RecordingServer::Stop() {
  if (server_) server_->Stop();
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
