#include "scenario/cookie_jar.h"

#include <gtest/gtest.h>

#include <vector>

namespace volley::engine::scenario {
namespace {

using std::chrono::seconds;
constexpr Nanos kT0 = seconds(1000);
constexpr int64_t kUnix = 1'700'000'000;  // 2023-11-14T22:13:20Z

std::string Render(const CookieJar& jar, std::string_view path, Nanos now = kT0) {
  std::string out;
  jar.Render(path, now, &out);
  return out;
}

TEST(SetCookieTest, ParsesNameValueAndAttributes) {
  SetCookie sc;
  ASSERT_TRUE(ParseSetCookie(
      " sid = abc123 ; Path=/app; Max-Age=60; Domain=example.com; Secure; HttpOnly", &sc));
  EXPECT_EQ(sc.name, "sid");
  EXPECT_EQ(sc.value, "abc123");
  EXPECT_EQ(sc.path, std::optional<std::string_view>("/app"));
  EXPECT_EQ(sc.domain, std::optional<std::string_view>("example.com"));
  EXPECT_EQ(sc.max_age, std::optional<int64_t>(60));
  EXPECT_EQ(sc.expires, std::nullopt);
  ASSERT_TRUE(ParseSetCookie("a=; path=relative; max-age=1x; EXPIRES=garbage", &sc));
  EXPECT_EQ(sc.value, "");
  EXPECT_EQ(sc.path, std::nullopt);
  EXPECT_EQ(sc.max_age, std::nullopt);
  EXPECT_EQ(sc.expires, std::nullopt);
  ASSERT_TRUE(ParseSetCookie("a=b=c", &sc));
  EXPECT_EQ(sc.value, "b=c");
  ASSERT_TRUE(ParseSetCookie("a=1; Max-Age=-5", &sc));
  EXPECT_EQ(sc.max_age, std::optional<int64_t>(-5));
  ASSERT_TRUE(ParseSetCookie("a=1; Max-Age=99999999999999999999999", &sc));
  EXPECT_EQ(sc.max_age, std::optional<int64_t>(1'000'000'000));
}

TEST(SetCookieTest, RejectsGarbage) {
  SetCookie sc;
  EXPECT_FALSE(ParseSetCookie("", &sc));
  EXPECT_FALSE(ParseSetCookie("novalue", &sc));
  EXPECT_FALSE(ParseSetCookie("=value", &sc));
  EXPECT_FALSE(ParseSetCookie("  = x; Path=/", &sc));
  EXPECT_FALSE(ParseSetCookie(";a=b", &sc));
  EXPECT_TRUE(ParseSetCookie(std::string("\xff\x00=\x01;;;;", 8), &sc));
}

TEST(CookieDateTest, ParsesCommonFormats) {
  EXPECT_EQ(ParseCookieDate("Thu, 01 Jan 1970 00:00:00 GMT"), std::optional<int64_t>(0));
  EXPECT_EQ(ParseCookieDate("Wed, 21 Oct 2015 07:28:00 GMT"), std::optional<int64_t>(1445412480));
  EXPECT_EQ(ParseCookieDate("Wednesday, 21-Oct-15 07:28:00 GMT"),
            std::optional<int64_t>(1445412480));
  EXPECT_EQ(ParseCookieDate("Wed Oct 21 07:28:00 2015"), std::optional<int64_t>(1445412480));
  EXPECT_EQ(ParseCookieDate("Tue, 29 Feb 2028 23:59:59 GMT"), std::optional<int64_t>(1835481599));
  EXPECT_EQ(ParseCookieDate(""), std::nullopt);
  EXPECT_EQ(ParseCookieDate("tomorrow"), std::nullopt);
  EXPECT_EQ(ParseCookieDate("Wed, 32 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseCookieDate("Wed, 21 Oct 2015 25:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseCookieDate("Wed, 21 Foo 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseCookieDate("Wed, 21 Oct 1500 07:28:00 GMT"), std::nullopt);
}

TEST(CookiePathTest, DefaultPathAndMatching) {
  EXPECT_EQ(DefaultCookiePath("/a/b/c"), "/a/b");
  EXPECT_EQ(DefaultCookiePath("/a/b/?q=/x/y"), "/a/b");
  EXPECT_EQ(DefaultCookiePath("/a"), "/");
  EXPECT_EQ(DefaultCookiePath("/"), "/");
  EXPECT_EQ(DefaultCookiePath(""), "/");
  EXPECT_EQ(DefaultCookiePath("rel/x"), "/");
  EXPECT_TRUE(CookiePathMatches("/app", "/app"));
  EXPECT_TRUE(CookiePathMatches("/app/x", "/app"));
  EXPECT_TRUE(CookiePathMatches("/app/x", "/app/"));
  EXPECT_TRUE(CookiePathMatches("/app?x=1", "/app"));
  EXPECT_TRUE(CookiePathMatches("/anything", "/"));
  EXPECT_TRUE(CookiePathMatches("", "/"));
  EXPECT_FALSE(CookiePathMatches("/application", "/app"));
  EXPECT_FALSE(CookiePathMatches("/ap", "/app"));
  EXPECT_FALSE(CookiePathMatches("/other", "/app"));
}

TEST(CookieJarTest, StoresReplacesAndRendersByPath) {
  CookieJar jar;
  EXPECT_EQ(jar.Store("sid=1; Path=/", "/login", kT0, kUnix), CookieJar::StoreResult::kStored);
  EXPECT_EQ(jar.Store("cart=7; Path=/shop", "/login", kT0, kUnix), CookieJar::StoreResult::kStored);
  EXPECT_EQ(jar.Store("lang=en", "/shop/items/1", kT0, kUnix),
            CookieJar::StoreResult::kStored);  // default path /shop/items
  EXPECT_EQ(Render(jar, "/"), "sid=1");
  EXPECT_EQ(Render(jar, "/shop"), "cart=7; sid=1");
  EXPECT_EQ(Render(jar, "/shop/items/2"), "lang=en; cart=7; sid=1");
  EXPECT_EQ(Render(jar, "/shopping"), "sid=1");
  EXPECT_EQ(jar.Store("sid=2; Path=/", "/", kT0, kUnix), CookieJar::StoreResult::kStored);
  EXPECT_EQ(jar.size(), 3u);
  EXPECT_EQ(Render(jar, "/"), "sid=2");
  EXPECT_EQ(*jar.Find("cart", kT0), "7");
  EXPECT_EQ(jar.Find("nope", kT0), nullptr);
  // Same name, different path: two cookies, the longer path first.
  EXPECT_EQ(jar.Store("sid=deep; Path=/shop", "/", kT0, kUnix), CookieJar::StoreResult::kStored);
  EXPECT_EQ(Render(jar, "/shop"), "cart=7; sid=deep; sid=2");
  EXPECT_EQ(jar.bytes(), (3 + 1 + 1) + (4 + 1 + 5) + (4 + 2 + 11) + (3 + 4 + 5));
  jar.Clear();
  EXPECT_EQ(Render(jar, "/"), "");
  EXPECT_EQ(jar.bytes(), 0u);
}

TEST(CookieJarTest, MaxAgeAndExpires) {
  CookieJar jar;
  jar.Store("short=1; Max-Age=10", "/", kT0, kUnix);
  jar.Store("session=1", "/", kT0, kUnix);
  jar.Store("dated=1; Expires=Wed, 15 Nov 2023 22:13:20 GMT", "/", kT0, kUnix);  // +1 day
  jar.Store("both=1; Max-Age=5; Expires=Wed, 15 Nov 2023 22:13:20 GMT", "/", kT0, kUnix);
  EXPECT_EQ(Render(jar, "/", kT0), "short=1; session=1; dated=1; both=1");
  EXPECT_EQ(Render(jar, "/", kT0 + seconds(5)), "short=1; session=1; dated=1");
  EXPECT_EQ(Render(jar, "/", kT0 + seconds(10)), "session=1; dated=1");
  EXPECT_EQ(Render(jar, "/", kT0 + seconds(86400)), "session=1");
  EXPECT_EQ(jar.Find("short", kT0 + seconds(10)), nullptr);
  // Deletion: Max-Age <= 0 or a past Expires.
  EXPECT_EQ(jar.Store("session=x; Max-Age=0", "/", kT0, kUnix), CookieJar::StoreResult::kDeleted);
  EXPECT_EQ(jar.Store("dated=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT", "/", kT0, kUnix),
            CookieJar::StoreResult::kDeleted);
  EXPECT_EQ(Render(jar, "/", kT0), "short=1; both=1");
  EXPECT_EQ(jar.Store("never=1; Max-Age=-1", "/", kT0, kUnix), CookieJar::StoreResult::kDeleted);
  EXPECT_EQ(jar.size(), 2u);
  // Deleting only matches the same path.
  EXPECT_EQ(jar.Store("short=1; Max-Age=0; Path=/other", "/", kT0, kUnix),
            CookieJar::StoreResult::kDeleted);
  EXPECT_EQ(jar.size(), 2u);
}

TEST(CookieJarTest, BoundedCountAndBytes) {
  CookieJar jar(CookieJar::Limits{.max_cookies = 3, .max_bytes = 40, .max_cookie_bytes = 20});
  EXPECT_EQ(jar.Store("a=1", "/", kT0, kUnix), CookieJar::StoreResult::kStored);
  EXPECT_EQ(jar.Store("b=1", "/", kT0, kUnix), CookieJar::StoreResult::kStored);
  EXPECT_EQ(jar.Store("c=1; Max-Age=1", "/", kT0, kUnix), CookieJar::StoreResult::kStored);
  EXPECT_EQ(jar.Store("d=1", "/", kT0, kUnix), CookieJar::StoreResult::kDropped);
  EXPECT_EQ(jar.dropped(), 1u);
  // Once c expired, it is purged to make room.
  EXPECT_EQ(jar.Store("d=1", "/", kT0 + seconds(1), kUnix), CookieJar::StoreResult::kStored);
  EXPECT_EQ(Render(jar, "/", kT0 + seconds(1)), "a=1; b=1; d=1");
  EXPECT_EQ(jar.Store("big=" + std::string(20, 'x'), "/", kT0, kUnix),
            CookieJar::StoreResult::kDropped);
  EXPECT_EQ(jar.Store("a=" + std::string(16, 'x'), "/", kT0, kUnix),
            CookieJar::StoreResult::kStored);  // 9 - 3 + 18 = 24 bytes
  EXPECT_EQ(jar.bytes(), 24u);
  EXPECT_EQ(jar.Store("b=" + std::string(18, 'x'), "/", kT0, kUnix),
            CookieJar::StoreResult::kDropped);  // would be 24 - 1 + 18 = 41 > 40
  EXPECT_EQ(Render(jar, "/", kT0), "a=" + std::string(16, 'x') + "; b=1; d=1");
  EXPECT_EQ(jar.dropped(), 3u);
  EXPECT_EQ(jar.Store("garbage", "/", kT0, kUnix), CookieJar::StoreResult::kInvalid);
}

TEST(CookieJarTest, StoreAllTakesEverySetCookie) {
  std::vector<HeaderField> headers = {{"Content-Type", "text/html"},
                                      {"Set-Cookie", "a=1"},
                                      {"set-cookie", "b=2; Path=/x"},
                                      {"SET-COOKIE", "bad"}};
  ResponseView view;
  view.headers = headers;
  CookieJar jar;
  EXPECT_EQ(jar.StoreAll(view, "/", kT0, kUnix), 2u);
  EXPECT_EQ(Render(jar, "/x/y"), "b=2; a=1");
}

}  // namespace
}  // namespace volley::engine::scenario
