#include "scenario/extractor.h"

#include <gtest/gtest.h>

#include <vector>

namespace volley::engine::scenario {
namespace {

using Kind = config::Extraction::Kind;

class ExtractorTest : public ::testing::Test {
 protected:
  ExtractorTest() {
    view_.status = 200;
    view_.headers = headers_;
    view_.body = body_;
  }
  Result<Extractor> Compile(Kind kind, std::string expr, std::string name = "v") {
    return Extractor::Compile(config::Extraction{kind, std::move(name), std::move(expr)}, table_);
  }
  std::string Apply(Kind kind, std::string expr) {
    auto e = Compile(kind, std::move(expr));
    EXPECT_TRUE(e.has_value()) << (e ? "" : e.error().message);
    if (!e) return "<compile error>";
    std::string out = "<untouched>";
    json_.Reset();
    if (!e->Apply(view_, json_, &out)) return "<none>";
    return out;
  }

  std::vector<HeaderField> headers_ = {{"Content-Type", "application/json"},
                                       {"X-Auth-Token", "tok-1"},
                                       {"x-auth-token", "tok-2"},
                                       {"Set-Cookie", "theme=dark; Path=/"},
                                       {"Set-Cookie", "JSESSIONID=s3ss10n; HttpOnly"},
                                       {"Set-Cookie", "garbage"}};
  std::string body_ =
      R"({"products":[{"id":17,"name":"Laptop"}],"msg":"Transaction ID: 98765 ok"})";
  ResponseView view_;
  VariableTable table_;
  JsonBodyCache json_;
};

TEST_F(ExtractorTest, JsonPath) {
  EXPECT_EQ(Apply(Kind::kJsonPath, "$.products[0].id"), "17");
  EXPECT_EQ(Apply(Kind::kJsonPath, "$.products[*].name"), "Laptop");
  EXPECT_EQ(Apply(Kind::kJsonPath, "$.missing"), "<none>");
}

TEST_F(ExtractorTest, RegexFirstGroup) {
  EXPECT_EQ(Apply(Kind::kRegex, R"(Transaction ID: (\d+))"), "98765");
  EXPECT_EQ(Apply(Kind::kRegex, R"re("id":(\d+),"name":"(\w+)")re"), "17");
  EXPECT_EQ(Apply(Kind::kRegex, R"re((nothere)?"msg")re"), "");  // group did not take part
  EXPECT_EQ(Apply(Kind::kRegex, R"(Order (\d+))"), "<none>");
}

TEST_F(ExtractorTest, HeaderCaseInsensitiveFirst) {
  EXPECT_EQ(Apply(Kind::kHeader, "x-auth-token"), "tok-1");
  EXPECT_EQ(Apply(Kind::kHeader, "CONTENT-TYPE"), "application/json");
  EXPECT_EQ(Apply(Kind::kHeader, "X-Missing"), "<none>");
}

TEST_F(ExtractorTest, CookieFromSetCookie) {
  EXPECT_EQ(Apply(Kind::kCookie, "JSESSIONID"), "s3ss10n");
  EXPECT_EQ(Apply(Kind::kCookie, "theme"), "dark");
  EXPECT_EQ(Apply(Kind::kCookie, "jsessionid"), "<none>");  // cookie names are exact
}

TEST_F(ExtractorTest, ApplyToSetsVariable) {
  auto e = Compile(Kind::kJsonPath, "$.products[0].name", "productName");
  ASSERT_TRUE(e);
  Variables vars(&table_);
  std::string scratch;
  json_.Reset();
  EXPECT_TRUE(e->ApplyTo(view_, json_, &scratch, &vars));
  EXPECT_EQ(*vars.Get("productName"), "Laptop");
  EXPECT_EQ(table_.Name(e->variable()), "productName");
  EXPECT_EQ(e->Describe(), "jsonPath $.products[0].name -> productName");
}

TEST_F(ExtractorTest, NonJsonBodyIsNoValue) {
  body_ = "<html>not json</html>";
  view_.body = body_;
  EXPECT_EQ(Apply(Kind::kJsonPath, "$.a"), "<none>");
  EXPECT_EQ(Apply(Kind::kRegex, "<html>(.*?)</html>"), "not json");
}

TEST_F(ExtractorTest, CompileErrors) {
  auto no_group = Compile(Kind::kRegex, R"(\d+)");
  ASSERT_FALSE(no_group);
  EXPECT_EQ(no_group.error().message,
            "regex '\\d+': needs a capture group, e.g. 'id=(\\d+)': its first group is the "
            "extracted value");
  auto bad = Compile(Kind::kRegex, "a(b");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "regex 'a(b': missing ): a(b");
  auto backref = Compile(Kind::kRegex, R"((a)\1)");
  ASSERT_FALSE(backref);
  EXPECT_NE(backref.error().message.find("invalid escape"), std::string::npos)
      << backref.error().message;
  // Over the 2 MiB program budget: refused at compile time.
  auto huge = Compile(Kind::kRegex, R"((\pL{1000}))");
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().message, "regex '(\\pL{1000})': pattern too large - compile failed");
  auto nested = Compile(Kind::kRegex, "((a{100}){100}){100}(x)");
  ASSERT_FALSE(nested);
  EXPECT_EQ(nested.error().message,
            "regex '((a{100}){100}){100}(x)': invalid repetition size: {100}");
  auto long_text = Compile(Kind::kRegex, "(" + std::string(5000, 'a') + ")");
  ASSERT_FALSE(long_text);
  EXPECT_NE(long_text.error().message.find("longer than 4096"), std::string::npos);
  auto path = Compile(Kind::kJsonPath, "$.a[");
  ASSERT_FALSE(path);
  EXPECT_EQ(path.error().message, "jsonPath '$.a[': expected an index, '*' or a quoted name at 4");
  auto name = Compile(Kind::kHeader, "X-A", "bad name");
  ASSERT_FALSE(name);
  EXPECT_EQ(name.error().message,
            "extract: invalid variable name 'bad name': use 1 to 128 letters, digits, '_', '-' "
            "and '.'");
  auto empty = Compile(Kind::kHeader, "");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "extract v: empty expression");
}

TEST_F(ExtractorTest, CatastrophicPatternIsLinear) {
  // (a+)+$ on "aaaa...b" is exponential with backtracking engines; RE2 is linear.
  body_ = std::string(100000, 'a') + "b";
  view_.body = body_;
  EXPECT_EQ(Apply(Kind::kRegex, "(a+)+$"), "<none>");
  EXPECT_EQ(Apply(Kind::kRegex, "^(a+)+b$"), std::string(100000, 'a'));
}

TEST_F(ExtractorTest, BadUtf8Body) {
  body_ = "id=\xff\xfe\x80;";
  view_.body = body_;
  EXPECT_EQ(Apply(Kind::kRegex, "id=(.*);"), "<none>");  // '.' matches UTF-8 characters only
  EXPECT_EQ(Apply(Kind::kRegex, "id=([^;]*)"), "");      // invalid bytes match no class
  EXPECT_EQ(Apply(Kind::kRegex, "(id)="), "id");
}

}  // namespace
}  // namespace volley::engine::scenario
