// The parts of http_server.h that need no sockets: headers, query parameters, routing,
// and the helpers for authentication.
#include <arpa/inet.h>
#include <openssl/crypto.h>

#include "volley/common/http_server.h"
#include "volley/common/strings.h"

namespace volley::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string> Segments(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 1;  // after the leading '/'
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    out.emplace_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

}  // namespace

void Headers::Add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::Set(std::string name, std::string value) {
  std::erase_if(fields_, [&](const auto& f) { return EqualsIgnoreCase(f.first, name); });
  Add(std::move(name), std::move(value));
}

std::string_view Headers::Get(std::string_view name) const {
  for (const auto& [k, v] : fields_) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return {};
}

bool Headers::Has(std::string_view name) const {
  for (const auto& f : fields_) {
    if (EqualsIgnoreCase(f.first, name)) return true;
  }
  return false;
}

std::string Request::Query(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    const size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    const size_t eq = pair.find('=');
    if (PercentDecode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return {};
}

void Router::Handle(std::string method, std::string pattern, Handler handler,
                    RouteOptions options) {
  routes_.push_back(Route{std::move(method), Segments(pattern), std::move(handler), options});
}

const Router::Route* Router::Match(std::string_view method, std::string_view path,
                                   std::vector<std::string>* params) const {
  if (path.empty() || path[0] != '/') return nullptr;
  const std::vector<std::string> segments = Segments(path);
  for (const Route& r : routes_) {
    if (r.method != method && !(method == "HEAD" && r.method == "GET")) continue;
    if (r.segments.size() != segments.size()) continue;
    std::vector<std::string> found;
    bool ok = true;
    for (size_t i = 0; i < segments.size() && ok; ++i) {
      if (r.segments[i] == "{}") {
        ok = !segments[i].empty();
        found.push_back(segments[i]);
      } else {
        ok = r.segments[i] == segments[i];
      }
    }
    if (!ok) continue;
    if (params) *params = std::move(found);
    return &r;
  }
  return nullptr;
}

void Router::RenderError(int status, std::string_view message, Response& res) const {
  res.status = status;
  if (error_renderer_) {
    error_renderer_(status, message, res);
    res.status = status;
    return;
  }
  res.content_type = "text/plain";
  res.body = std::string(message) + "\n";
}

bool SecretsEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view AuthorizationToken(const Request& req, bool allow_token_scheme) {
  std::string_view auth = Trim(req.headers.Get("Authorization"));
  for (std::string_view scheme : {std::string_view("Bearer "), std::string_view("Token ")}) {
    if (scheme == "Token " && !allow_token_scheme) continue;
    if (auth.size() > scheme.size() && EqualsIgnoreCase(auth.substr(0, scheme.size()), scheme)) {
      return Trim(auth.substr(scheme.size()));
    }
  }
  return {};
}

bool IsLoopback(std::string_view host) {
  const std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return host == "localhost";
}

}  // namespace volley::http
