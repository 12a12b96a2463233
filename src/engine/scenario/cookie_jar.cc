#include "scenario/cookie_jar.h"

#include <algorithm>
#include <array>

#include "volley/common/strings.h"

namespace volley::engine::scenario {
namespace {

constexpr int64_t kMaxAgeClamp = 1'000'000'000;  // seconds (31 years); keeps Nanos sums in range

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// RFC 6265 §5.1.1 delimiter.
bool IsDateDelimiter(unsigned char c) {
  return c == 0x09 || (c >= 0x20 && c <= 0x2F) || (c >= 0x3B && c <= 0x40) ||
         (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

// Reads 1..max_digits digits at the start of `s` into *value; the rest must be empty or
// start with a non-digit. Returns the digits consumed, 0 if it does not fit.
size_t LeadingDigits(std::string_view s, size_t min_digits, size_t max_digits, int* value) {
  size_t i = 0;
  int v = 0;
  while (i < s.size() && IsDigit(s[i])) {
    if (i == max_digits) return 0;
    v = v * 10 + (s[i] - '0');
    ++i;
  }
  if (i < min_digits) return 0;
  *value = v;
  return i;
}

bool ParseTime(std::string_view token, int* h, int* m, int* s) {
  size_t n = LeadingDigits(token, 1, 2, h);
  if (n == 0 || n >= token.size() || token[n] != ':') return false;
  token.remove_prefix(n + 1);
  n = LeadingDigits(token, 1, 2, m);
  if (n == 0 || n >= token.size() || token[n] != ':') return false;
  token.remove_prefix(n + 1);
  return LeadingDigits(token, 1, 2, s) != 0;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<int64_t> ParseMaxAge(std::string_view v) {
  if (v.empty()) return std::nullopt;
  bool negative = v[0] == '-';
  if (negative) v.remove_prefix(1);
  if (v.empty()) return std::nullopt;
  int64_t n = 0;
  for (char c : v) {
    if (!IsDigit(c)) return std::nullopt;
    n = std::min<int64_t>(n * 10 + (c - '0'), kMaxAgeClamp);
  }
  return negative ? -n : n;
}

}  // namespace

std::optional<int64_t> ParseCookieDate(std::string_view date) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  bool have_time = false, have_day = false, have_month = false, have_year = false;
  int hour = 0, minute = 0, second = 0, day = 0, month = 0, year = 0;
  size_t i = 0;
  while (i < date.size()) {
    while (i < date.size() && IsDateDelimiter(static_cast<unsigned char>(date[i]))) ++i;
    size_t start = i;
    while (i < date.size() && !IsDateDelimiter(static_cast<unsigned char>(date[i]))) ++i;
    std::string_view token = date.substr(start, i - start);
    if (token.empty()) continue;
    int v = 0;
    if (!have_time && ParseTime(token, &hour, &minute, &second)) {
      have_time = true;
    } else if (!have_day && LeadingDigits(token, 1, 2, &v) != 0) {
      have_day = true;
      day = v;
    } else if (!have_month && token.size() >= 3) {
      for (size_t m = 0; m < kMonths.size(); ++m) {
        if (EqualsIgnoreCase(token.substr(0, 3), kMonths[m])) {
          have_month = true;
          month = static_cast<int>(m) + 1;
          break;
        }
      }
      if (!have_month && !have_year && LeadingDigits(token, 2, 4, &v) != 0) {
        have_year = true;
        year = v;
      }
    } else if (!have_year && LeadingDigits(token, 2, 4, &v) != 0) {
      have_year = true;
      year = v;
    }
  }
  if (have_year && year >= 70 && year <= 99) year += 1900;
  if (have_year && year >= 0 && year <= 69) year += 2000;
  if (!have_time || !have_day || !have_month || !have_year) return std::nullopt;
  if (day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return days * 86400 + hour * 3600 + minute * 60 + second;
}

bool ParseSetCookie(std::string_view header, SetCookie* out) {
  *out = SetCookie{};
  size_t semi = header.find(';');
  std::string_view pair = header.substr(0, semi);
  size_t eq = pair.find('=');
  if (eq == std::string_view::npos) return false;
  out->name = Trim(pair.substr(0, eq));
  out->value = Trim(pair.substr(eq + 1));
  if (out->name.empty()) return false;
  std::string_view rest = semi == std::string_view::npos ? std::string_view() : header.substr(semi);
  while (!rest.empty()) {
    rest.remove_prefix(1);  // the ';'
    size_t next = rest.find(';');
    std::string_view attr = rest.substr(0, next);
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next);
    size_t aeq = attr.find('=');
    std::string_view key = Trim(attr.substr(0, aeq));
    std::string_view val =
        aeq == std::string_view::npos ? std::string_view() : Trim(attr.substr(aeq + 1));
    if (EqualsIgnoreCase(key, "max-age")) {
      if (auto age = ParseMaxAge(val)) out->max_age = age;
    } else if (EqualsIgnoreCase(key, "expires")) {
      if (auto when = ParseCookieDate(val)) out->expires = when;
    } else if (EqualsIgnoreCase(key, "path")) {
      if (!val.empty() && val[0] == '/')
        out->path = val;
      else
        out->path.reset();
    } else if (EqualsIgnoreCase(key, "domain")) {
      out->domain = val;
    }
  }
  return true;
}

std::string_view DefaultCookiePath(std::string_view request_path) {
  request_path = request_path.substr(0, request_path.find('?'));
  if (request_path.empty() || request_path[0] != '/') return "/";
  size_t last = request_path.rfind('/');
  if (last == 0) return "/";
  return request_path.substr(0, last);
}

bool CookiePathMatches(std::string_view request_path, std::string_view cookie_path) {
  request_path = request_path.substr(0, request_path.find('?'));
  if (request_path.empty()) request_path = "/";
  if (request_path.substr(0, cookie_path.size()) != cookie_path) return false;
  if (request_path.size() == cookie_path.size()) return true;
  return (!cookie_path.empty() && cookie_path.back() == '/') ||
         request_path[cookie_path.size()] == '/';
}

CookieJar::StoreResult CookieJar::Store(std::string_view set_cookie, std::string_view request_path,
                                        Nanos now, int64_t unix_now) {
  SetCookie sc;
  if (!ParseSetCookie(set_cookie, &sc)) return StoreResult::kInvalid;
  std::string_view path = sc.path ? *sc.path : DefaultCookiePath(request_path);
  Nanos expires = Nanos::max();
  std::optional<int64_t> lifetime;  // seconds from now
  if (sc.max_age) {
    lifetime = *sc.max_age;
  } else if (sc.expires) {
    lifetime = std::clamp<int64_t>(*sc.expires - unix_now, -kMaxAgeClamp, kMaxAgeClamp);
  }
  auto same = [&](const Cookie& c) { return c.name == sc.name && c.path == path; };
  auto it = std::find_if(cookies_.begin(), cookies_.end(), same);
  if (lifetime && *lifetime <= 0) {
    if (it == cookies_.end()) return StoreResult::kDeleted;
    Erase(static_cast<size_t>(it - cookies_.begin()));
    return StoreResult::kDeleted;
  }
  if (lifetime) expires = now + std::chrono::seconds(*lifetime);
  size_t size = sc.name.size() + sc.value.size() + path.size();
  if (size > limits_.max_cookie_bytes) {
    ++dropped_;
    return StoreResult::kDropped;
  }
  if (it != cookies_.end()) {  // replace, keeping the creation order (RFC 6265 §5.3 11.3)
    size_t old = it->value.size();
    if (bytes_ - old + sc.value.size() > limits_.max_bytes) {
      ++dropped_;
      return StoreResult::kDropped;
    }
    bytes_ = bytes_ - old + sc.value.size();
    it->value.assign(sc.value);
    it->expires = expires;
    return StoreResult::kStored;
  }
  if (cookies_.size() >= limits_.max_cookies || bytes_ + size > limits_.max_bytes) {
    PurgeExpired(now);
  }
  if (cookies_.size() >= limits_.max_cookies || bytes_ + size > limits_.max_bytes) {
    ++dropped_;
    return StoreResult::kDropped;
  }
  Cookie c{std::string(sc.name), std::string(sc.value), std::string(path), expires, next_seq_++};
  // Longer paths first; among equal lengths the new cookie is the newest, so it goes last.
  auto pos = std::find_if(cookies_.begin(), cookies_.end(),
                          [&](const Cookie& o) { return o.path.size() < c.path.size(); });
  bytes_ += size;
  cookies_.insert(pos, std::move(c));
  return StoreResult::kStored;
}

size_t CookieJar::StoreAll(const ResponseView& response, std::string_view request_path, Nanos now,
                           int64_t unix_now) {
  size_t stored = 0;
  for (const auto& [name, value] : response.headers) {
    if (EqualsIgnoreCase(name, "set-cookie") &&
        Store(value, request_path, now, unix_now) == StoreResult::kStored) {
      ++stored;
    }
  }
  return stored;
}

size_t CookieJar::Render(std::string_view request_path, Nanos now, std::string* out) const {
  size_t n = 0;
  for (const Cookie& c : cookies_) {
    if (c.expires <= now || !CookiePathMatches(request_path, c.path)) continue;
    if (n++ > 0) out->append("; ");
    out->append(c.name);
    out->push_back('=');
    out->append(c.value);
  }
  return n;
}

const std::string* CookieJar::Find(std::string_view name, Nanos now) const {
  for (const Cookie& c : cookies_) {
    if (c.name == name && c.expires > now) return &c.value;
  }
  return nullptr;
}

void CookieJar::Clear() {
  cookies_.clear();
  bytes_ = 0;
}

void CookieJar::PurgeExpired(Nanos now) {
  for (size_t i = cookies_.size(); i-- > 0;) {
    if (cookies_[i].expires <= now) Erase(i);
  }
}

void CookieJar::Erase(size_t i) {
  bytes_ -= Size(cookies_[i]);
  cookies_.erase(cookies_.begin() + static_cast<std::ptrdiff_t>(i));
}

}  // namespace volley::engine::scenario
