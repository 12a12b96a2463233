// Per-user cookies (RFC 6265, simplified for a load test of one target host) and the
// Set-Cookie parser (engine internal).
//
// Simplifications, on purpose:
// - Domain: a plan targets one host (config.baseUrl), so every cookie is for that host;
//   the Domain attribute is parsed and otherwise ignored (no domain matching, no public
//   suffix checks).
// - Secure, HttpOnly, SameSite and unknown attributes are ignored: cookies are sent over
//   http and https alike.
// - Expires is parsed with the RFC 6265 §5.1.1 date algorithm and compared with the wall
//   clock the caller passes; Max-Age wins over Expires. An unparsable Expires is ignored
//   (a session cookie). Max-Age <= 0, or an Expires in the past, deletes the cookie.
// - Identity is (name, path): a later Set-Cookie with the same name and path replaces it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scenario/response.h"
#include "volley/common/clock.h"

namespace volley::engine::scenario {

// One parsed Set-Cookie header value. Views into the header text.
struct SetCookie {
  std::string_view name;
  std::string_view value;
  std::optional<std::string_view> path;    // only if the attribute starts with '/'
  std::optional<std::string_view> domain;  // parsed, not used (see above)
  std::optional<int64_t> max_age;          // seconds, clamped to +-10^9
  std::optional<int64_t> expires;          // Unix seconds of a parsable Expires date
};

// Parses a Set-Cookie value per RFC 6265 §5.2. Returns false (the header is ignored) when
// the name-value pair has no '=' or an empty name. Never throws; any bytes are accepted.
bool ParseSetCookie(std::string_view header, SetCookie* out);

// Parses a cookie date (RFC 6265 §5.1.1, e.g. "Wed, 21 Oct 2015 07:28:00 GMT") into Unix
// seconds, or nullopt.
std::optional<int64_t> ParseCookieDate(std::string_view date);

// RFC 6265 §5.1.4: the default cookie path of a request path (its directory; "/" at most),
// and whether `request_path` (a query string is ignored) path-matches `cookie_path`.
std::string_view DefaultCookiePath(std::string_view request_path);
bool CookiePathMatches(std::string_view request_path, std::string_view cookie_path);

// One user's cookies. Bounded: at most max_cookies cookies and max_bytes bytes of names,
// values and paths; a cookie that does not fit (after expired ones are purged), or one
// larger than max_cookie_bytes, is dropped and counted in dropped().
//
// Times: `now` is the monotonic clock (Max-Age, expiry), `unix_now` the wall clock in Unix
// seconds (Expires dates). Thread-safety: none; a jar belongs to one user on one thread.
class CookieJar {
 public:
  struct Limits {
    size_t max_cookies = 64;
    size_t max_bytes = 16 * 1024;
    size_t max_cookie_bytes = 4096;
  };
  enum class StoreResult : uint8_t { kStored, kDeleted, kInvalid, kDropped };

  CookieJar() : CookieJar(Limits{}) {}
  explicit CookieJar(const Limits& limits) : limits_(limits) {}

  // Applies one Set-Cookie header value received for a request to `request_path`.
  StoreResult Store(std::string_view set_cookie, std::string_view request_path, Nanos now,
                    int64_t unix_now);
  // Applies every Set-Cookie header of `response`, in order. Returns how many were stored.
  size_t StoreAll(const ResponseView& response, std::string_view request_path, Nanos now,
                  int64_t unix_now);

  // Appends the Cookie header value for a request to `request_path` ("a=1; b=2", longest
  // path first, then oldest first; no "Cookie: " prefix) and returns how many cookies it
  // appended (0: send no Cookie header). Expired cookies are skipped. Does not allocate
  // beyond `*out`'s growth.
  size_t Render(std::string_view request_path, Nanos now, std::string* out) const;

  // The value of the first unexpired cookie named `name` (any path), or nullptr. Valid
  // until the next Store or Clear.
  const std::string* Find(std::string_view name, Nanos now) const;

  // Forgets every cookie (a new user); counters are kept.
  void Clear();

  size_t size() const { return cookies_.size(); }
  size_t bytes() const { return bytes_; }
  uint64_t dropped() const { return dropped_; }

 private:
  struct Cookie {
    std::string name;
    std::string value;
    std::string path;
    Nanos expires;  // monotonic; Nanos::max() for a session cookie
    uint64_t seq;   // creation order
  };
  static size_t Size(const Cookie& c) { return c.name.size() + c.value.size() + c.path.size(); }
  void PurgeExpired(Nanos now);
  void Erase(size_t i);

  Limits limits_;
  std::vector<Cookie> cookies_;  // sorted: longer path first, then lower seq
  size_t bytes_ = 0;
  uint64_t next_seq_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace volley::engine::scenario
