#include "volley/common/parse.h"

#include <gtest/gtest.h>

#include "volley/common/env.h"
#include "volley/common/http_lex.h"
#include "volley/common/problems.h"
#include "volley/common/url.h"

namespace volley {
namespace {

TEST(Parse, BooleansIntegersAndNumbers) {
  EXPECT_EQ(*ParseBool("TRUE"), true);
  EXPECT_EQ(*ParseBool("off"), false);
  EXPECT_EQ(*ParseBool(""), false);
  ASSERT_FALSE(ParseBool("maybe"));
  EXPECT_EQ(ParseBool("maybe").error().message, "expected true or false, got 'maybe'");
  EXPECT_EQ(*ParseInt("-42"), -42);
  EXPECT_FALSE(ParseInt(" 4"));  // callers trim where they allow spaces
  EXPECT_FALSE(ParseInt("4x"));
  EXPECT_EQ(*ParseIntInRange("64", 1, 64), 64);
  ASSERT_FALSE(ParseIntInRange("65", 1, 64));
  EXPECT_EQ(ParseIntInRange("65", 1, 64).error().message,
            "must be an integer from 1 to 64, got '65'");
  EXPECT_DOUBLE_EQ(*ParseNumber("2.5e1"), 25.0);
  EXPECT_FALSE(ParseNumber("inf"));
  EXPECT_FALSE(ParseNumber(""));
}

TEST(Url, ParsesTheOneUrlForm) {
  auto u = ParseUrl("HTTPS://[::1]:8443/a?b#frag");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8443);
  EXPECT_EQ(u->path, "/a?b");
  EXPECT_EQ(u->Origin(), "https://[::1]:8443");
  EXPECT_EQ(ParseUrl("http://h#x")->path, "/");
  EXPECT_EQ(ParseUrl("http://h")->Origin(), "http://h");
  EXPECT_FALSE(ParseUrl("http://a b/"));
  EXPECT_FALSE(ParseUrl("http://u@h/"));
  EXPECT_FALSE(ParseUrl("http://h:0/"));
}

TEST(HttpLex, TokensValuesAndLists) {
  EXPECT_TRUE(http::IsToken("X-Request-Id"));
  EXPECT_FALSE(http::IsToken("bad name"));
  EXPECT_FALSE(http::IsToken(""));
  EXPECT_TRUE(http::IsValidFieldValue("a\tb \x80"));
  EXPECT_FALSE(http::IsValidFieldValue("a\rb"));
  EXPECT_TRUE(http::EqualsLower("Content-Length", "content-length"));
  EXPECT_TRUE(http::EqualsIgnoreCase("ChUnKeD", "chunked"));
  std::vector<std::string> items;
  http::ForEachListElement(" a ,, b", [&](std::string_view e) {
    items.emplace_back(e);
    return true;
  });
  EXPECT_EQ(items, (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(http::HexValue('F'), 15);
  EXPECT_EQ(http::HexValue('g'), -1);
}

TEST(Problems, CarriesTheListAndTheJoinedMessage) {
  Problems p;
  EXPECT_TRUE(p.Done());
  p.Add("plan.yaml:9:3: load.min", "must be <= load.max");
  p.AddAll(Error{ErrorCode::kInvalidArgument, "one\ntwo"}, "x: ");
  const Error e = p.ToError();
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.problems, (std::vector<std::string>{"plan.yaml:9:3: load.min: must be <= load.max",
                                                  "x: one", "x: two"}));
  EXPECT_EQ(e.message, "plan.yaml:9:3: load.min: must be <= load.max\nx: one\nx: two");
  EXPECT_EQ(ProblemLines(e), e.problems);
  EXPECT_EQ(ProblemLines(Error{ErrorCode::kIo, "a\nb"}), (std::vector<std::string>{"a", "b"}));
}

TEST(Env, ReadsTheProcessEnvironmentOneWay) {
  setenv("VOLLEY_PARSE_TEST_X", "1", 1);
  setenv("VOLLEY_PARSE_TEST_EMPTY", "", 1);
  EXPECT_EQ(EnvOr(ProcessEnv(), "VOLLEY_PARSE_TEST_X", "d"), "1");
  EXPECT_EQ(EnvOr(ProcessEnv(), "VOLLEY_PARSE_TEST_EMPTY", "d"), "d");
  EXPECT_EQ(EnvOr(ProcessEnv(), "VOLLEY_PARSE_TEST_UNSET", "d"), "d");
  const EnvMap m = ProcessEnvMap({"VOLLEY_PARSE_TEST_"});
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.at("VOLLEY_PARSE_TEST_X"), "1");
}

}  // namespace
}  // namespace volley
