#include "response_table.h"

#include <algorithm>

namespace volley::target {

std::string_view ReasonPhrase(int code) {
  switch (code) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 418:
      return "I'm a teapot";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

namespace {

// Everything up to and including the empty line. `body_size` is announced in
// Content-Length unless the status forbids a body.
std::string BuildHead(int code, std::string_view content_type, size_t body_size,
                      ConnectionHeader connection, std::string_view extra_headers) {
  std::string head;
  head.reserve(160 + extra_headers.size());
  head += "HTTP/1.1 ";
  head += std::to_string(code);
  head += ' ';
  head += ReasonPhrase(code);
  head += "\r\nServer: volley\r\n";
  if (code != 204 && code != 304) {
    head += "Content-Type: ";
    head += content_type;
    head += "\r\nContent-Length: ";
    head += std::to_string(body_size);
    head += "\r\n";
  }
  if (connection == ConnectionHeader::kClose) head += "Connection: close\r\n";
  if (connection == ConnectionHeader::kKeepAlive) head += "Connection: keep-alive\r\n";
  head += extra_headers;
  head += "\r\n";
  return head;
}

bool BodyAllowed(int code) { return code != 204 && code != 304; }

}  // namespace

std::string BuildResponse(int code, std::string_view content_type, std::string_view body,
                          ConnectionHeader connection, std::string_view extra_headers) {
  if (!BodyAllowed(code)) body = {};
  std::string out = BuildHead(code, content_type, body.size(), connection, extra_headers);
  out += body;
  return out;
}

std::string MakeBody(size_t size) {
  constexpr std::string_view kText = "Hello, world\n";
  std::string body;
  body.reserve(size);
  while (body.size() < size) body += kText.substr(0, std::min(kText.size(), size - body.size()));
  return body;
}

ResponseTable::ResponseTable(const std::vector<int>& codes, size_t body_size,
                             std::string_view fixed_body)
    : codes_(codes) {
  if (!fixed_body.empty()) body_size = fixed_body.size();
  const bool json = !fixed_body.empty() && (fixed_body[0] == '{' || fixed_body[0] == '[');
  const std::string_view content_type = json ? "application/json" : "text/plain";
  auto make = [&] { return fixed_body.empty() ? MakeBody(body_size) : std::string(fixed_body); };
  const bool inline_body = body_size <= kInlineBodyLimit;
  const std::string body = inline_body ? make() : std::string();
  if (!inline_body) large_body_ = make();
  responses_.resize(codes_.size());
  for (size_t i = 0; i < codes_.size(); ++i) {
    const int code = codes_[i];
    for (int c = 0; c < 3; ++c) {
      PreparedResponse& r = responses_[i][c];
      const size_t size = BodyAllowed(code) ? body_size : 0;
      r.bytes = BuildHead(code, content_type, size, static_cast<ConnectionHeader>(c), {});
      r.head_size = r.bytes.size();
      if (size > 0 && inline_body) r.bytes += body;
      if (size > 0 && !inline_body) r.tail = large_body_;
    }
  }
}

const PreparedResponse* ResponseTable::Find(int code, ConnectionHeader connection) const {
  for (size_t i = 0; i < codes_.size(); ++i) {
    if (codes_[i] == code) return &responses_[i][static_cast<size_t>(connection)];
  }
  return nullptr;
}

}  // namespace volley::target
