// The ingest HTTP service (server.h).
#include "volley/ingest/server.h"

#include <zlib.h>

#include <chrono>

#include "render.h"
#include "volley/common/listen_address.h"
#include "volley/common/strings.h"

namespace volley::ingest {
namespace {

constexpr size_t kMaxRunId = 128;
constexpr size_t kMaxIdempotencyKey = 128;

void SendError(http::Response& res, int status, std::string_view message) {
  res.status = status;
  res.content_type = "application/json";
  res.body = RenderError(status, message);
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

bool Authorized(const http::Request& req, const std::string& token) {
  return token.empty() || http::SecretsEqual(http::AuthorizationToken(req, true), token);
}

// The media type of a Content-Type header, lower case, without parameters.
std::string MediaType(const http::Request& req) {
  std::string_view type = req.headers.Get("Content-Type");
  return ToLower(Trim(type.substr(0, type.find(';'))));
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

// Inflates a gzip (or zlib "deflate") body into `out`, at most `max` bytes. Returns false
// with `*too_big` set past the limit, false alone on a bad stream.
bool Inflate(const std::string& in, size_t max, std::string* out, bool* too_big) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return false;  // +32: gzip or zlib header
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    const size_t n = sizeof buf - zs.avail_out;
    if (out->size() + n > max) {
      *too_big = true;
      inflateEnd(&zs);
      return false;
    }
    out->append(buf, n);
    if (rc == Z_OK && zs.avail_in == 0 && n == 0) break;  // truncated
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END;
}

int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

http::ServerOptions DefaultHttpOptions() {
  http::ServerOptions o;
  o.name = "ingest";
  o.header_timeout = std::chrono::seconds(10);
  o.idle_timeout = std::chrono::seconds(60);
  o.body_timeout = std::chrono::seconds(30);
  o.write_timeout = std::chrono::seconds(30);
  o.max_connections = 4096;
  o.max_connections_per_peer = 512;
  return o;
}

IngestServer::IngestServer(IngestOptions options, Store& store)
    : options_(std::move(options)), store_(store) {}

IngestServer::~IngestServer() { Stop(); }

void IngestServer::Push(bool is_v2, const http::Request& req, http::Response& res) {
  const std::string& run = req.params.at(0);
  if (!ValidRunId(run)) {
    return SendError(res, 400, "run id must be 1-128 characters of A-Z a-z 0-9 . _ -");
  }
  const std::string key(req.headers.Get("K6-Idempotency-Key"));
  if (!ValidKey(key)) {
    return SendError(res, 400, "K6-Idempotency-Key must be at most 128 printable ASCII characters");
  }
  const std::string encoding = ToLower(Trim(req.headers.Get("Content-Encoding")));
  const bool inflated = encoding == "gzip" || encoding == "deflate";
  const std::string type = MediaType(req);
  Result<wire::k6::MetricSetData> batch;
  wire::k6::DecodeReport report;
  if (is_v2) {
    const std::string version(Trim(req.headers.Get("K6-Metrics-Protocol-Version")));
    if (!version.empty() && version != wire::k6::kProtocolVersion && version != "2") {
      return SendError(res, 400,
                       "K6-Metrics-Protocol-Version \"" + version.substr(0, 32) +
                           "\" is not supported: this service speaks 2.0");
    }
    if (encoding != "snappy") {
      return SendError(res, 415,
                       "a v2 body must be snappy-compressed (Content-Encoding: "
                       "snappy), got \"" +
                           encoding.substr(0, 32) + "\"");
    }
    if (!type.empty() && type != "application/x-protobuf") {
      return SendError(res, 415,
                       "a v2 body must be Content-Type: application/x-protobuf, got \"" +
                           type.substr(0, 64) + "\"");
    }
    batch = DecodeV2Body(req.body, options_.limits, &report);
  } else {
    if (!encoding.empty() && encoding != "identity" && !inflated) {
      return SendError(res, 415,
                       "a v1 body may be sent plain or gzip/deflate-compressed; "
                       "Content-Encoding \"" +
                           encoding.substr(0, 32) + "\" is not supported");
    }
    if (!type.empty() && type != "application/json") {
      return SendError(
          res, 415,
          "a v1 body must be Content-Type: application/json, got \"" + type.substr(0, 64) + "\"");
    }
    if (inflated) {
      std::string plain;
      bool too_big = false;
      if (!Inflate(req.body, options_.max_body, &plain, &too_big)) {
        if (too_big) {
          return SendError(res, 413,
                           "the body inflates to more than " + std::to_string(options_.max_body) +
                               " bytes (--max-body)");
        }
        return SendError(res, 400,
                         "the body could not be read (cut short, or a bad "
                         "gzip/deflate stream)");
      }
      batch = DecodeV1Body(plain, options_.limits);
    } else {
      batch = DecodeV1Body(req.body, options_.limits);
    }
  }
  if (!batch) return SendError(res, 400, batch.error().message);
  if (batch->series.empty() && report.refused_series > 0) {
    std::string why = "every series was refused: " + report.refused.front();
    if (report.refused_series > 1) {
      why += " (and " + std::to_string(report.refused_series - 1) + " more)";
    }
    return SendError(res, 400, why);
  }
  if (!batch->test_run_id.empty() && batch->test_run_id != run) {
    return SendError(res, 400,
                     "test_run_id \"" + batch->test_run_id.substr(0, 128) +
                         "\" in the body differs from the run in the URL \"" + run + "\"");
  }
  const int64_t now = options_.now_ms ? options_.now_ms() : WallNowMs();
  auto written = store_.Write(run, *batch, key, now,
                              BatchRepairs{report.repaired_values, report.refused_series});
  if (!written) return SendError(res, StatusFor(written.error()), written.error().message);
  res.status = 200;
  res.content_type = "application/json";
  res.body = RenderPushAnswer(run, *written, report);
}

http::Router IngestServer::Routes() {
  http::Router r;
  const http::RouteOptions push_limit{.max_body = options_.max_body};
  r.Handle(
      "POST", "/v2/metrics/{}",
      [this](const http::Request& req, http::Response& res) { Push(true, req, res); }, push_limit);
  r.Handle(
      "POST", "/v1/metrics/{}",
      [this](const http::Request& req, http::Response& res) { Push(false, req, res); }, push_limit);
  r.Handle("GET", "/v1/runs", [this](const http::Request&, http::Response& res) {
    auto runs = store_.Runs();
    if (!runs) return SendError(res, 500, runs.error().message);
    res.content_type = "application/json";
    res.body = RenderRuns(*runs);
  });
  r.Handle("GET", "/v1/runs/{}/summary", [this](const http::Request& req, http::Response& res) {
    const std::string& run = req.params.at(0);
    auto summary = store_.Summary(run);
    if (!summary) return SendError(res, StatusFor(summary.error()), summary.error().message);
    res.content_type = "application/json";
    res.body = RenderSummary(run, *summary);
  });
  r.Handle("GET", "/v1/runs/{}/series", [this](const http::Request& req, http::Response& res) {
    const std::string& run = req.params.at(0);
    auto series = store_.Series(run, req.Query("metric"));
    if (!series) return SendError(res, StatusFor(series.error()), series.error().message);
    res.content_type = "application/json";
    res.body = RenderSeries(run, *series);
  });
  // Before any body is read: the token, and compressed bodies where nothing inflates them.
  r.SetHeaderCheck([this](const http::Request& req, http::Response& res) {
    if (!Authorized(req, options_.token)) {
      res.headers.Add("WWW-Authenticate", "Token");
      SendError(res, 401, "missing or wrong token: send Authorization: Token <token> (or Bearer)");
      return true;
    }
    const std::string encoding = ToLower(Trim(req.headers.Get("Content-Encoding")));
    const bool push = req.method == "POST" && IsPushPath(req.path);
    if (!push && !encoding.empty() && encoding != "identity") {
      SendError(res, 415, "compressed bodies are only accepted by POST /v1|v2/metrics/{run}");
      return true;
    }
    return false;
  });
  r.SetNotFound([](const http::Request& req, http::Response& res) {
    SendError(res, 404,
              "no such endpoint: " + req.method + " " + req.path.substr(0, 200) +
                  " (POST /v2/metrics/{run}, POST /v1/metrics/{run}, GET /v1/runs, "
                  "GET /v1/runs/{run}/summary, GET /v1/runs/{run}/series)");
  });
  r.SetErrorRenderer([](int status, std::string_view message, http::Response& res) {
    SendError(res, status, status == 413 ? std::string(message) + " (--max-body)" : message);
  });
  return r;
}

Result<std::unique_ptr<IngestServer>> IngestServer::Start(IngestOptions options, Store& store) {
  auto addr = ParseListenAddress(options.listen);
  if (!addr) return MakeError(ErrorCode::kInvalidArgument, "--listen: " + addr.error().message);
  if (options.threads < 1 || options.max_body == 0) {
    return MakeError(ErrorCode::kInvalidArgument, "ingest: threads and max_body must be > 0");
  }
  options.http.name = "ingest";
  options.http.worker_threads = options.threads;
  options.http.max_body_bytes = options.max_body;
  std::unique_ptr<IngestServer> self(new IngestServer(std::move(options), store));
  auto server = http::HttpServer::Start(*addr, self->options_.http, self->Routes());
  if (!server) {
    Error e = server.error();
    if (e.code == ErrorCode::kIo) {
      e.message = "--listen: " + e.message + " (in use? pass --listen with another address)";
    }
    return tl::unexpected(e);
  }
  self->server_ = std::move(*server);
  return self;
}

}  // namespace volley::ingest
