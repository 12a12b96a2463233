// The ingest HTTP service (server.h).
#include "volley/ingest/server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <system_error>

#include "render.h"
#include "volley/common/listen_address.h"
#include "volley/common/strings.h"

namespace volley::ingest {
namespace {

constexpr size_t kMaxRunId = 128;
constexpr size_t kMaxIdempotencyKey = 128;
constexpr time_t kReadWriteTimeoutS = 30;

void SendError(httplib::Response& res, int status, std::string_view message) {
  res.status = status;
  res.set_content(RenderError(status, message), "application/json");
}

std::string TooLarge(size_t max_body) {
  return "the body is over the limit of " + std::to_string(max_body) + " bytes (--max-body)";
}

int StatusFor(const Error& e) {
  switch (e.code) {
    case ErrorCode::kProtocol:
      return 400;
    case ErrorCode::kInvalidArgument:
      return 409;
    case ErrorCode::kNotFound:
      return 404;
    default:
      return 500;
  }
}

bool ValidRunId(std::string_view run) {
  if (run.empty() || run.size() > kMaxRunId) return false;
  for (char c : run) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

bool ValidKey(std::string_view key) {
  if (key.size() > kMaxIdempotencyKey) return false;
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// Constant-time comparison, so the token cannot be guessed byte by byte from timings.
bool SameSecret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

bool Authorized(const httplib::Request& req, const std::string& token) {
  if (token.empty()) return true;
  const std::string auth = req.get_header_value("Authorization");
  for (std::string_view scheme : {"Token ", "Bearer "}) {
    if (auth.size() > scheme.size() && EqualsIgnoreCase(auth.substr(0, scheme.size()), scheme)) {
      return SameSecret(Trim(std::string_view(auth).substr(scheme.size())), token);
    }
  }
  return false;
}

// The media type of a Content-Type header, lower case, without parameters.
std::string MediaType(const httplib::Request& req) {
  std::string type = req.get_header_value("Content-Type");
  return ToLower(Trim(std::string_view(type).substr(0, type.find(';'))));
}

// Exactly the paths the push routes match: /v1/metrics/{run} and /v2/metrics/{run}.
bool IsPushPath(std::string_view path) {
  for (std::string_view prefix : {"/v1/metrics/", "/v2/metrics/"}) {
    if (path.size() > prefix.size() && path.substr(0, prefix.size()) == prefix &&
        path.find('/', prefix.size()) == std::string_view::npos) {
      return true;
    }
  }
  return false;
}

int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

IngestServer::IngestServer(IngestOptions options, Store& store)
    : options_(std::move(options)), store_(store), server_(std::make_unique<httplib::Server>()) {}

IngestServer::~IngestServer() { Stop(); }

void IngestServer::Route() {
  httplib::Server& svr = *server_;
  const bool v2 = true;
  auto push = [this](bool is_v2) {
    return [this, is_v2](const httplib::Request& req, httplib::Response& res,
                         const httplib::ContentReader& content) {
      // httplib has already refused a body over max_body bytes on the wire (413); a
      // gzip/deflate body (which httplib inflates) is bounded here as it arrives.
      std::string body;
      bool too_big = false;
      const bool read = content([&](const char* data, size_t n) {
        if (body.size() + n > options_.max_body) {
          too_big = true;
          return false;
        }
        body.append(data, n);
        return true;
      });
      if (!read) {
        res.set_header("Connection", "close");
        if (too_big) {
          return SendError(res, 413, "the body inflates to more than " +
                                         std::to_string(options_.max_body) + " bytes (--max-body)");
        }
        if (res.status == 413) return SendError(res, 413, TooLarge(options_.max_body));
        return SendError(res, 400, "the body could not be read (cut short, or a bad "
                                   "gzip/deflate stream)");
      }
      const std::string run = req.matches[1];
      if (!ValidRunId(run)) {
        return SendError(res, 400, "run id must be 1-128 characters of A-Z a-z 0-9 . _ -");
      }
      const std::string key = req.get_header_value("K6-Idempotency-Key");
      if (!ValidKey(key)) {
        return SendError(res, 400, "K6-Idempotency-Key must be at most 128 printable ASCII characters");
      }
      const std::string encoding = ToLower(Trim(req.get_header_value("Content-Encoding")));
      const bool inflated = encoding == "gzip" || encoding == "deflate";
      const std::string type = MediaType(req);
      Result<wire::k6::MetricSetData> batch;
      if (is_v2) {
        const std::string version(Trim(req.get_header_value("K6-Metrics-Protocol-Version")));
        if (!version.empty() && version != wire::k6::kProtocolVersion && version != "2") {
          return SendError(res, 400, "K6-Metrics-Protocol-Version \"" + version.substr(0, 32) +
                                         "\" is not supported: this service speaks 2.0");
        }
        if (encoding != "snappy") {
          return SendError(res, 415, "a v2 body must be snappy-compressed (Content-Encoding: "
                                     "snappy), got \"" + encoding.substr(0, 32) + "\"");
        }
        if (!type.empty() && type != "application/x-protobuf") {
          return SendError(res, 415, "a v2 body must be Content-Type: application/x-protobuf, got \"" +
                                         type.substr(0, 64) + "\"");
        }
        batch = DecodeV2Body(body, options_.limits);
      } else {
        if (!encoding.empty() && encoding != "identity" && !inflated) {
          return SendError(res, 415, "a v1 body may be sent plain or gzip/deflate-compressed; "
                                     "Content-Encoding \"" + encoding.substr(0, 32) +
                                         "\" is not supported");
        }
        if (!type.empty() && type != "application/json") {
          return SendError(res, 415, "a v1 body must be Content-Type: application/json, got \"" +
                                         type.substr(0, 64) + "\"");
        }
        batch = DecodeV1Body(body, options_.limits);
      }
      if (!batch) return SendError(res, 400, batch.error().message);
      if (!batch->test_run_id.empty() && batch->test_run_id != run) {
        return SendError(res, 400, "test_run_id \"" + batch->test_run_id.substr(0, 128) +
                                       "\" in the body differs from the run in the URL \"" + run + "\"");
      }
      const int64_t now = options_.now_ms ? options_.now_ms() : WallNowMs();
      auto written = store_.Write(run, *batch, key, now);
      if (!written) return SendError(res, StatusFor(written.error()), written.error().message);
      res.status = 200;
      res.set_content("{\"run\":\"" + run + "\",\"series\":" + std::to_string(written->series) +
                          ",\"values\":" + std::to_string(written->values) +
                          ",\"merged\":" + std::to_string(written->merged) + ",\"duplicate\":" +
                          (written->duplicate ? "true" : "false") + "}",
                      "application/json");
    };
  };
  svr.Post(R"(/v2/metrics/([^/]+))", push(v2));
  svr.Post(R"(/v1/metrics/([^/]+))", push(!v2));
  svr.Get("/v1/runs", [this](const httplib::Request&, httplib::Response& res) {
    auto runs = store_.Runs();
    if (!runs) return SendError(res, 500, runs.error().message);
    res.set_content(RenderRuns(*runs), "application/json");
  });
  svr.Get(R"(/v1/runs/([^/]+)/summary)", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string run = req.matches[1];
    auto summary = store_.Summary(run);
    if (!summary) return SendError(res, StatusFor(summary.error()), summary.error().message);
    res.set_content(RenderSummary(run, *summary), "application/json");
  });
  svr.Get(R"(/v1/runs/([^/]+)/series)", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string run = req.matches[1];
    auto series = store_.Series(run, req.get_param_value("metric"));
    if (!series) return SendError(res, StatusFor(series.error()), series.error().message);
    res.set_content(RenderSeries(run, *series), "application/json");
  });
  // Runs before httplib reads a body. Only the push routes read bodies through a bounded
  // reader; anywhere else httplib would inflate a compressed body without limit, so such
  // requests are refused here.
  svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    using H = httplib::Server::HandlerResponse;
    if (!Authorized(req, options_.token)) {
      res.set_header("WWW-Authenticate", "Token");
      res.set_header("Connection", "close");  // the body, if any, stays unread
      SendError(res, 401, "missing or wrong token: send Authorization: Token <token> (or Bearer)");
      return H::Handled;
    }
    const std::string encoding = ToLower(Trim(req.get_header_value("Content-Encoding")));
    const bool push = req.method == "POST" && IsPushPath(req.path);
    if (!push && !encoding.empty() && encoding != "identity") {
      res.set_header("Connection", "close");
      SendError(res, 415, "compressed bodies are only accepted by POST /v1|v2/metrics/{run}");
      return H::Handled;
    }
    return H::Unhandled;
  });
  const size_t max_body = options_.max_body;
  svr.set_error_handler([max_body](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) {
      SendError(res, 413, TooLarge(max_body));
    } else if (res.status == 404) {
      SendError(res, 404, "no such endpoint: " + req.method + " " + req.path.substr(0, 200) +
                              " (POST /v2/metrics/{run}, POST /v1/metrics/{run}, GET /v1/runs, "
                              "GET /v1/runs/{run}/summary, GET /v1/runs/{run}/series)");
    } else {
      SendError(res, res.status, "the request was refused (HTTP " + std::to_string(res.status) + ")");
    }
  });
}

Result<std::unique_ptr<IngestServer>> IngestServer::Start(IngestOptions options, Store& store) {
  auto addr = ParseListenAddress(options.listen);
  if (!addr) return MakeError(ErrorCode::kInvalidArgument, "--listen: " + addr.error().message);
  if (options.threads < 1 || options.max_body == 0) {
    return MakeError(ErrorCode::kInvalidArgument, "ingest: threads and max_body must be > 0");
  }
  const size_t threads = static_cast<size_t>(options.threads);
  std::unique_ptr<IngestServer> self(new IngestServer(std::move(options), store));
  httplib::Server& svr = *self->server_;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_socket_options([](socket_t sock) {  // no SO_REUSEPORT: never share the port
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  svr.set_payload_max_length(self->options_.max_body);
  svr.set_read_timeout(kReadWriteTimeoutS, 0);
  svr.set_write_timeout(kReadWriteTimeoutS, 0);
  self->Route();
  const std::string where = addr->host + ":" + std::to_string(addr->port);
  if (addr->port == 0) {
    const int port = svr.bind_to_any_port(addr->host);
    if (port <= 0) return MakeError(ErrorCode::kIo, "--listen " + where + ": cannot bind");
    self->port_ = static_cast<uint16_t>(port);
  } else if (!svr.bind_to_port(addr->host, addr->port)) {
    return MakeError(ErrorCode::kIo, "--listen " + where +
                                         ": cannot bind (address in use, not local, or a "
                                         "privileged port?)");
  } else {
    self->port_ = addr->port;
  }
  self->host_ = addr->host;
  auto done = std::make_shared<std::atomic<bool>>(false);
  IngestServer* raw = self.get();
  try {
    self->thread_ = std::thread([raw, done] {
      raw->server_->listen_after_bind();
      done->store(true);
    });
  } catch (const std::system_error& e) {
    return MakeError(ErrorCode::kInternal, std::string("ingest: cannot start a thread: ") + e.what());
  }
  // stop() is a no-op until the accept loop runs; wait for it (microseconds).
  while (!svr.is_running() && !done->load()) std::this_thread::sleep_for(std::chrono::microseconds(50));
  if (done->load()) return MakeError(ErrorCode::kInternal, "ingest: the accept loop ended at once");
  return self;
}

void IngestServer::Stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace volley::ingest
