#include "scenario/json_path.h"

#include <gtest/gtest.h>

namespace volley::engine::scenario {
namespace {

constexpr std::string_view kBody = R"({
  "a": {"b": "text", "n": 1, "f": 2.5, "t": true, "z": null, "big": 1e100,
        "neg": -7, "u": 18446744073709551615},
  "items": [{"x": 1}, {"id": "first"}, {"id": "second"}],
  "nested": {"arr": [1, [2, 3], {"k": "v"}]},
  "we.ird": "dotted", "q'uote": "single", "esc\"aped": "double",
  "empty": {}, "list": []
})";

std::string Eval(std::string_view path, std::string_view body = kBody) {
  auto p = JsonPath::Compile(path);
  EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().message);
  if (!p) return "<compile error>";
  JsonBodyCache cache;
  std::string out = "<untouched>";
  if (!p->Evaluate(body, cache, &out)) return "<no match>";
  return out;
}

std::string CompileError(std::string_view path) {
  auto p = JsonPath::Compile(path);
  return p ? "<ok>" : p.error().message;
}

TEST(JsonPathTest, MembersAndIndexes) {
  EXPECT_EQ(Eval("$.a.b"), "text");
  EXPECT_EQ(Eval("$['a']['b']"), "text");
  EXPECT_EQ(Eval("$[\"a\"].b"), "text");
  EXPECT_EQ(Eval("$.items[1].id"), "first");
  EXPECT_EQ(Eval("$.items[2].id"), "second");
  EXPECT_EQ(Eval("$.nested.arr[1][0]"), "2");
  EXPECT_EQ(Eval("$['we.ird']"), "dotted");
  EXPECT_EQ(Eval("$['q\\'uote']"), "single");
  EXPECT_EQ(Eval("$[\"esc\\\"aped\"]"), "double");
  EXPECT_EQ(Eval("$[0]", "[\"zero\", 1]"), "zero");
  EXPECT_EQ(Eval("$[1]", "[\"zero\", 1]"), "1");
}

TEST(JsonPathTest, ScalarsAsJsonText) {
  EXPECT_EQ(Eval("$.a.n"), "1");
  EXPECT_EQ(Eval("$.a.f"), "2.5");
  EXPECT_EQ(Eval("$.a.t"), "true");
  EXPECT_EQ(Eval("$.a.z"), "null");
  EXPECT_EQ(Eval("$.a.big"), "1e+100");
  EXPECT_EQ(Eval("$.a.neg"), "-7");
  EXPECT_EQ(Eval("$.a.u"), "18446744073709551615");
}

TEST(JsonPathTest, ContainersAsMinifiedJson) {
  EXPECT_EQ(Eval("$.nested"), R"({"arr":[1,[2,3],{"k":"v"}]})");
  EXPECT_EQ(Eval("$.nested.arr[1]"), "[2,3]");
  EXPECT_EQ(Eval("$.empty"), "{}");
  EXPECT_EQ(Eval("$.list"), "[]");
  EXPECT_EQ(Eval("$", R"( [1, {"a" : "b"}] )"), R"([1,{"a":"b"}])");
  EXPECT_EQ(Eval("$", "\"just a string\""), "just a string");
}

TEST(JsonPathTest, WildcardTakesFirstMatch) {
  EXPECT_EQ(Eval("$.items[*].id"), "first");
  EXPECT_EQ(Eval("$.items[*]"), R"({"x":1})");
  EXPECT_EQ(Eval("$.items.*.id"), "first");
  EXPECT_EQ(Eval("$.nested.arr[*].k"), "v");
  EXPECT_EQ(Eval("$.a[*]"), "text");  // member values of an object, in order
  EXPECT_EQ(Eval("$.list[*]"), "<no match>");
  EXPECT_EQ(Eval("$[*][*][*]", "[[1],[[2]],[[3]]]"), "2");
}

TEST(JsonPathTest, NoMatch) {
  EXPECT_EQ(Eval("$.missing"), "<no match>");
  EXPECT_EQ(Eval("$.a.b.c"), "<no match>");
  EXPECT_EQ(Eval("$.items[3]"), "<no match>");
  EXPECT_EQ(Eval("$.items.x"), "<no match>");
  EXPECT_EQ(Eval("$.a[0]"), "<no match>");
  EXPECT_EQ(Eval("$[1000000000]", "[1]"), "<no match>");
}

TEST(JsonPathTest, HostileBodiesAreNoMatch) {
  EXPECT_EQ(Eval("$", ""), "<no match>");
  EXPECT_EQ(Eval("$", "not json"), "<no match>");
  EXPECT_EQ(Eval("$.a", "{\"a\": 1"), "<no match>");
  EXPECT_EQ(Eval("$.a", "{\"a\": \"\xff\xfe\"}"), "<no match>");  // bad UTF-8
  EXPECT_EQ(Eval("$", std::string(100000, '[')), "<no match>");
  std::string deep = std::string(300, '[') + "1" + std::string(300, ']');
  JsonBodyCache cache;  // max_depth 256
  auto p = JsonPath::Compile("$");
  std::string out;
  EXPECT_FALSE(p->Evaluate(deep, cache, &out));
  EXPECT_EQ(cache.state(), JsonBodyCache::State::kInvalid);
  EXPECT_NE(cache.error().find("not valid JSON"), std::string::npos) << cache.error();
  std::string ok_deep = std::string(200, '[') + "1" + std::string(200, ']');
  cache.Reset();
  EXPECT_TRUE(p->Evaluate(ok_deep, cache, &out));
}

TEST(JsonPathTest, BodyOverLimitIsNoMatch) {
  JsonBodyCache cache(JsonBodyCache::Limits{.max_body_bytes = 16, .max_depth = 8});
  auto p = JsonPath::Compile("$.a");
  std::string out;
  EXPECT_TRUE(p->Evaluate(R"({"a":"short"})", cache, &out));
  EXPECT_EQ(out, "short");
  cache.Reset();
  EXPECT_FALSE(p->Evaluate(R"({"a":"longer than sixteen"})", cache, &out));
  EXPECT_EQ(cache.state(), JsonBodyCache::State::kTooLarge);
  EXPECT_EQ(cache.error(), "body of 27 bytes is over the JSON limit of 16");
  EXPECT_EQ(out, "short");  // untouched
}

TEST(JsonPathTest, CacheParsesOncePerResponse) {
  JsonBodyCache cache;
  auto a = JsonPath::Compile("$.a.b");
  auto n = JsonPath::Compile("$.a.n");
  std::string out;
  std::string body(kBody);
  EXPECT_TRUE(a->Evaluate(body, cache, &out));
  EXPECT_TRUE(n->Evaluate(body, cache, &out));
  EXPECT_TRUE(a->Exists(body, cache));
  EXPECT_EQ(cache.parse_count(), 1u);
  cache.Reset();  // a new response in the same buffer
  body = R"({"a": {"b": "changed", "n": 2}})";
  EXPECT_TRUE(a->Evaluate(body, cache, &out));
  EXPECT_EQ(out, "changed");
  EXPECT_EQ(cache.parse_count(), 2u);
  std::string other = R"({"a": {"b": "other"}})";  // a different body without Reset
  EXPECT_TRUE(a->Evaluate(other, cache, &out));
  EXPECT_EQ(out, "other");
  EXPECT_EQ(cache.parse_count(), 3u);
}

TEST(JsonPathTest, ExistsCountsNull) {
  JsonBodyCache cache;
  auto z = JsonPath::Compile("$.a.z");
  auto m = JsonPath::Compile("$.a.missing");
  EXPECT_TRUE(z->Exists(kBody, cache));
  EXPECT_FALSE(m->Exists(kBody, cache));
}

TEST(JsonPathTest, CompileErrors) {
  EXPECT_EQ(CompileError("$.a["), "jsonPath '$.a[': expected an index, '*' or a quoted name at 4");
  EXPECT_EQ(CompileError("$.a[0"), "jsonPath '$.a[0': expected ']' at 5");
  EXPECT_EQ(CompileError("$.a[x]"),
            "jsonPath '$.a[x]': expected an index, '*' or a quoted name at 4");
  EXPECT_EQ(CompileError("a.b"), "jsonPath 'a.b': expected '$' at 0");
  EXPECT_EQ(CompileError(""), "jsonPath '': expected '$' at 0");
  EXPECT_EQ(CompileError("$..a"), "jsonPath '$..a': recursive descent '..' is not supported at 1");
  EXPECT_EQ(CompileError("$.a."), "jsonPath '$.a.': expected a name at 4");
  EXPECT_EQ(CompileError("$a"), "jsonPath '$a': expected '.' or '[' at 1");
  EXPECT_EQ(CompileError("$['a"), "jsonPath '$['a': unterminated name: expected ' at 4");
  EXPECT_EQ(CompileError("$['a'"), "jsonPath '$['a'': expected ']' at 5");
  EXPECT_EQ(CompileError("$['\\n']"), "jsonPath '$['\\n']': unknown escape at 3");
  EXPECT_EQ(CompileError("$[99999999999]"),
            "jsonPath '$[99999999999]': index over 1000000000 at 11");
  EXPECT_EQ(CompileError("$[-1]"),
            "jsonPath '$[-1]': expected an index, '*' or a quoted name at 2");
  std::string many = "$";
  for (int i = 0; i < 65; ++i) many += ".a";
  EXPECT_EQ(CompileError(many).substr(CompileError(many).find("': ")),
            "': more than 64 steps at 129");
  EXPECT_NE(CompileError("$" + std::string(5000, 'a')).find("longer than 4096"), std::string::npos);
  EXPECT_EQ(CompileError("$"), "<ok>");
  EXPECT_EQ(CompileError("$.a[*]"), "<ok>");
}

}  // namespace
}  // namespace volley::engine::scenario
