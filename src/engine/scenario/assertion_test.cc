#include "scenario/assertion.h"

#include <gtest/gtest.h>

#include <vector>

namespace volley::engine::scenario {
namespace {

using Kind = config::Assertion::Kind;
using std::chrono::milliseconds;

config::Assertion Spec(Kind kind, std::string text = "",
                       std::optional<std::string> expected = std::nullopt) {
  config::Assertion a;
  a.kind = kind;
  a.text = std::move(text);
  a.expected = std::move(expected);
  return a;
}

class AssertionTest : public ::testing::Test {
 protected:
  AssertionTest() {
    view_.status = 200;
    view_.headers = headers_;
    view_.body = body_;
    view_.elapsed = milliseconds(120);
  }
  // "pass", or the failure reason.
  std::string Check(const config::Assertion& spec) {
    auto a = Assertion::Compile(spec);
    EXPECT_TRUE(a.has_value()) << (a ? "" : a.error().message);
    if (!a) return "<compile error>";
    json_.Reset();
    std::string why;
    return a->Check(view_, json_, &why) ? "pass" : why;
  }
  std::string Describe(const config::Assertion& spec) {
    auto a = Assertion::Compile(spec);
    return a ? a->Describe() : a.error().message;
  }

  std::vector<HeaderField> headers_ = {{"X-Request-ID", "r1"},
                                       {"Content-Type", "application/json"}};
  std::string body_ =
      R"({"status":"active","count":1,"ratio":1.5,"ok":true,"none":null,"user":{"id":7},"tags":["a"]})";
  ResponseView view_;
  JsonBodyCache json_;
};

TEST_F(AssertionTest, StatusCode) {
  config::Assertion spec = Spec(Kind::kStatusCode);
  spec.status = 200;
  EXPECT_EQ(Check(spec), "pass");
  view_.status = 404;
  EXPECT_EQ(Check(spec), "status 404, expected 200");
  EXPECT_EQ(Describe(spec), "statusCode == 200");
  spec.status = 99;
  EXPECT_EQ(Describe(spec), "statusCode: expected a status from 100 to 599, got 99");
}

TEST_F(AssertionTest, ResponseTime) {
  config::Assertion spec = Spec(Kind::kResponseTime);
  spec.max_time = milliseconds(120);
  EXPECT_EQ(Check(spec), "pass");  // equal is within
  view_.elapsed = milliseconds(121);
  EXPECT_EQ(Check(spec), "response time 121.00ms over 120.00ms");
  EXPECT_EQ(Describe(spec), "responseTime <= 120.00ms");
}

TEST_F(AssertionTest, BodyContainsAndMatches) {
  EXPECT_EQ(Check(Spec(Kind::kBodyContains, "active")), "pass");
  EXPECT_EQ(Check(Spec(Kind::kBodyContains, "ACTIVE")), "body does not contain \"ACTIVE\"");
  EXPECT_EQ(Check(Spec(Kind::kBodyMatches, R"("id":\d+)")), "pass");
  EXPECT_EQ(Check(Spec(Kind::kBodyMatches, R"(User-\d+)")), "body does not match \"User-\\d+\"");
  EXPECT_EQ(Describe(Spec(Kind::kBodyMatches, "a(")), "bodyMatches 'a(': missing ): a(");
  EXPECT_EQ(Describe(Spec(Kind::kBodyContains, "")), "bodyContains: text must not be empty");
}

TEST_F(AssertionTest, JsonPathExistsAndEquals) {
  EXPECT_EQ(Check(Spec(Kind::kJsonPath, "$.status")), "pass");
  EXPECT_EQ(Check(Spec(Kind::kJsonPath, "$.none")), "pass");  // null exists
  EXPECT_EQ(Check(Spec(Kind::kJsonPath, "$.missing")), "$.missing not found");
  EXPECT_EQ(Check(Spec(Kind::kJsonPath, "$.status", "active")), "pass");
  EXPECT_EQ(Check(Spec(Kind::kJsonPath, "$.status", "gone")),
            "$.status is \"active\", expected \"gone\"");
  EXPECT_EQ(Check(Spec(Kind::kJsonPath, "$.count", "1")), "pass");
  EXPECT_EQ(Check(Spec(Kind::kJsonPath, "$.count", "1.0")), "$.count is \"1\", expected \"1.0\"");
  EXPECT_EQ(Check(Spec(Kind::kJsonPath, "$.ratio", "1.5")), "pass");
  EXPECT_EQ(Check(Spec(Kind::kJsonPath, "$.ok", "true")), "pass");
  EXPECT_EQ(Check(Spec(Kind::kJsonPath, "$.none", "null")), "pass");
  EXPECT_EQ(Check(Spec(Kind::kJsonPath, "$.user", R"({"id":7})")), "pass");
  EXPECT_EQ(Check(Spec(Kind::kJsonPath, "$.tags[0]", "a")), "pass");
  EXPECT_EQ(Check(Spec(Kind::kJsonPath, "$.missing", "x")), "$.missing not found");
  EXPECT_EQ(Describe(Spec(Kind::kJsonPath, "$.status", "active")),
            "jsonPath $.status == \"active\"");
  EXPECT_EQ(Describe(Spec(Kind::kJsonPath, "$.status")), "jsonPath $.status exists");
  EXPECT_EQ(Describe(Spec(Kind::kJsonPath, "status")), "jsonPath 'status': expected '$' at 0");
}

TEST_F(AssertionTest, JsonPathOnNonJsonBody) {
  body_ = "<html></html>";
  view_.body = body_;
  std::string why = Check(Spec(Kind::kJsonPath, "$.status", "active"));
  EXPECT_EQ(why.rfind("$.status: body is not valid JSON: ", 0), 0u) << why;
  why = Check(Spec(Kind::kJsonPath, "$.status"));
  EXPECT_EQ(why.rfind("$.status: body is not valid JSON: ", 0), 0u) << why;
}

TEST_F(AssertionTest, SeveralJsonAssertionsParseOnce) {
  auto a = Assertion::Compile(Spec(Kind::kJsonPath, "$.status", "active"));
  auto b = Assertion::Compile(Spec(Kind::kJsonPath, "$.count", "1"));
  ASSERT_TRUE(a && b);
  json_.Reset();
  EXPECT_TRUE(a->Check(view_, json_, nullptr));
  EXPECT_TRUE(b->Check(view_, json_, nullptr));
  EXPECT_EQ(json_.parse_count(), 1u);
}

TEST_F(AssertionTest, HeaderExists) {
  EXPECT_EQ(Check(Spec(Kind::kHeaderExists, "x-request-id")), "pass");
  EXPECT_EQ(Check(Spec(Kind::kHeaderExists, "X-Trace")), "no header X-Trace");
  EXPECT_EQ(Describe(Spec(Kind::kHeaderExists, "X-Trace")), "headerExists X-Trace");
  EXPECT_EQ(Describe(Spec(Kind::kHeaderExists, "")), "headerExists: header name must not be empty");
}

}  // namespace
}  // namespace volley::engine::scenario
