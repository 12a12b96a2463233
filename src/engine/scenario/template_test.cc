#include "scenario/template.h"

#include <gtest/gtest.h>

namespace volley::engine::scenario {
namespace {

class TemplateTest : public ::testing::Test {
 protected:
  std::string Render(std::string_view text, std::string_view* undefined = nullptr,
                     bool* ok = nullptr) {
    auto t = Template::Compile(text, table_);
    EXPECT_TRUE(t.has_value()) << (t ? "" : t.error().message);
    if (!t) return "<error>";
    std::string out;
    bool r = t->Render(vars_, &out, undefined);
    if (ok) *ok = r;
    return out;
  }
  std::string CompileError(std::string_view text) {
    auto t = Template::Compile(text, table_);
    return t ? "<ok>" : t.error().message;
  }
  VariableTable table_;
  Variables vars_{&table_};
};

TEST_F(TemplateTest, SubstitutesVariables) {
  vars_.Set(table_.Intern("id"), "42");
  vars_.Set(table_.Intern("token"), "abc");
  EXPECT_EQ(Render("/users/${id}/orders?t=${token}&again=${id}"),
            "/users/42/orders?t=abc&again=42");
  EXPECT_EQ(Render("${id}"), "42");
  EXPECT_EQ(Render("${id}${token}"), "42abc");
  EXPECT_EQ(Render("plain text"), "plain text");
  EXPECT_EQ(Render(""), "");
}

TEST_F(TemplateTest, DollarWithoutBraceIsLiteralAndEscape) {
  vars_.Set(table_.Intern("x"), "X");
  EXPECT_EQ(Render("$5 and a$"), "$5 and a$");
  EXPECT_EQ(Render("$$"), "$$");
  EXPECT_EQ(Render("$${x}"), "${x}");
  // A lone '$', then the escape "$${", then literal "x}".
  EXPECT_EQ(Render("$$${x}"), "$${x}");
  EXPECT_EQ(Render("{x} }"), "{x} }");
}

TEST_F(TemplateTest, ListsVariablesInOrderOnce) {
  auto t = Template::Compile("${b}/${a}/${b}", table_);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->variables(), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(t->variable_ids().size(), 2u);
  EXPECT_FALSE(t->is_literal());
  auto lit = Template::Compile("/static", table_);
  ASSERT_TRUE(lit);
  EXPECT_TRUE(lit->is_literal());
}

TEST_F(TemplateTest, UndefinedVariableIsNamed) {
  vars_.Set(table_.Intern("a"), "1");
  std::string_view undefined;
  bool ok = true;
  Render("${a}-${missing}-${other}", &undefined, &ok);
  EXPECT_FALSE(ok);
  EXPECT_EQ(undefined, "missing");
}

TEST_F(TemplateTest, CompileErrorsArePositioned) {
  EXPECT_EQ(CompileError("/users/${id"), "unterminated '${' at 7 in '/users/${id'");
  EXPECT_EQ(CompileError("a${}"), "empty variable name '${}' at 1 in 'a${}'");
  EXPECT_EQ(CompileError("${a b}"),
            "invalid variable name 'a b' at 2 in '${a b}': use letters, digits, '_', '-' and "
            "'.' (at most 128)");
  EXPECT_NE(CompileError("${" + std::string(129, 'n') + "}").find("invalid variable name"),
            std::string::npos);
  EXPECT_NE(CompileError("${\xff}").find("invalid variable name"), std::string::npos);
}

TEST(PercentEncodeTest, KeepsUnreservedOnly) {
  std::string out;
  AppendPercentEncoded("aZ09-._~ /?&=+%\xc3\xa9", &out);
  EXPECT_EQ(out, "aZ09-._~%20%2F%3F%26%3D%2B%25%C3%A9");
}

TEST(QueryTemplateTest, RendersEncodedParameters) {
  VariableTable table;
  auto q = QueryTemplate::Compile({{"q", "${term}"}, {"page size", "10"}}, table);
  ASSERT_TRUE(q);
  Variables vars(&table);
  vars.Set("term", "red shoes&more");
  std::string path = "/search";
  ASSERT_TRUE(q->Render(vars, &path));
  EXPECT_EQ(path, "/search?q=red%20shoes%26more&page%20size=10");
  std::string with_query = "/s?x=1";
  ASSERT_TRUE(q->Render(vars, &with_query));
  EXPECT_EQ(with_query, "/s?x=1&q=red%20shoes%26more&page%20size=10");
  EXPECT_EQ(q->variable_ids().size(), 1u);
}

TEST(QueryTemplateTest, EmptyAppendsNothingAndErrorsNameKey) {
  VariableTable table;
  auto empty = QueryTemplate::Compile({}, table);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  Variables vars(&table);
  std::string path = "/a";
  EXPECT_TRUE(empty->Render(vars, &path));
  EXPECT_EQ(path, "/a");
  auto bad = QueryTemplate::Compile({{"q", "${x"}}, table);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "queryParams.q: unterminated '${' at 0 in '${x'");
  auto undefined = QueryTemplate::Compile({{"q", "${nope}"}}, table);
  ASSERT_TRUE(undefined);
  std::string_view name;
  std::string out = "/";
  EXPECT_FALSE(undefined->Render(vars, &out, &name));
  EXPECT_EQ(name, "nope");
}

}  // namespace
}  // namespace volley::engine::scenario
