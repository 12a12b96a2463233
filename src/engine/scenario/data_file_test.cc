#include "scenario/data_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace volley::engine::scenario {
namespace {

using Rows = std::vector<std::vector<std::string>>;

std::string CsvError(std::string_view text) {
  auto t = ParseCsv(text, "users.csv");
  return t ? "<ok>" : t.error().message;
}

std::string JsonError(std::string_view text) {
  auto t = ParseJsonRows(text, "users.json");
  return t ? "<ok>" : t.error().message;
}

TEST(CsvTest, HeaderAndRowsWithLfOrCrlf) {
  for (std::string_view text : {"user,pass\nalice,a1\nbob,b2\n", "user,pass\r\nalice,a1\r\nbob,b2",
                                "\xEF\xBB\xBFuser,pass\n\nalice,a1\n\nbob,b2\n\n"}) {
    auto t = ParseCsv(text, "users.csv");
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t->columns, (std::vector<std::string>{"user", "pass"}));
    EXPECT_EQ(t->rows, (Rows{{"alice", "a1"}, {"bob", "b2"}}));
  }
}

TEST(CsvTest, QuotedFields) {
  auto t = ParseCsv(
      "name,note,empty\n\"Doe, Jane\",\"said \"\"hi\"\"\nthen left\",\n"
      "plain,\"\",x\"y\n",
      "f.csv");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->rows, (Rows{{"Doe, Jane", "said \"hi\"\nthen left", ""}, {"plain", "", "x\"y"}}));
  auto crlf_inside = ParseCsv("a\n\"x\r\ny\"\r\n", "f.csv");
  ASSERT_TRUE(crlf_inside);
  EXPECT_EQ(crlf_inside->rows, (Rows{{"x\r\ny"}}));
}

TEST(CsvTest, Errors) {
  EXPECT_EQ(CsvError("a,b\n1,2\n3\n"), "users.csv:3: row has 1 fields, the header has 2");
  EXPECT_EQ(CsvError("a,b\n1,2,3\n"), "users.csv:2: row has 3 fields, the header has 2");
  EXPECT_EQ(CsvError("a,b\n1,\"2\n3,4\n"), "users.csv:2: unterminated quoted field");
  EXPECT_EQ(CsvError("a\n\"x\"y\n"),
            "users.csv:2: unexpected character after a closing quote (a '\"' inside a quoted "
            "field is written '\"\"')");
  EXPECT_EQ(CsvError("a,b\n\"multi\nline\",2\n5\n"),
            "users.csv:4: row has 1 fields, the header has 2");  // line numbers count newlines
  EXPECT_EQ(CsvError(""), "users.csv: empty CSV file: no header");
  EXPECT_EQ(CsvError("a,b\n"), "users.csv: no data rows after the header");
  EXPECT_EQ(CsvError("a,,b\n1,2,3\n"), "users.csv:1: header column 2 has no name");
  EXPECT_EQ(CsvError("a,a\n1,2\n"), "users.csv:1: duplicate column 'a'");
  EXPECT_EQ(CsvError("\""), "users.csv:1: unterminated quoted field");
  EXPECT_EQ(CsvError("a\n\xff\xfe\n"), "<ok>");  // bytes are kept as they are
}

TEST(JsonRowsTest, UnionOfKeysAndTextValues) {
  auto t = ParseJsonRows(R"([{"user":"alice","id":1},
                             {"id":2.5,"admin":true,"user":"bob"},
                             {"extra":{"k":[1,2]},"user":null}])",
                         "u.json");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->columns, (std::vector<std::string>{"user", "id", "admin", "extra"}));
  EXPECT_EQ(t->rows, (Rows{{"alice", "1", "", ""},
                           {"bob", "2.5", "true", ""},
                           {"null", "", "", R"({"k":[1,2]})"}}));
}

TEST(JsonRowsTest, Errors) {
  EXPECT_EQ(JsonError(R"([{"a":1}, "x"])"),
            "users.json: element 1 is a string, expected an object");
  EXPECT_EQ(JsonError(R"([[1]])"), "users.json: element 0 is an array, expected an object");
  EXPECT_EQ(JsonError(R"([{}, 5])"), "users.json: element 1 is a number, expected an object");
  EXPECT_EQ(JsonError(R"({"a":1})"), "users.json: expected a JSON array of objects");
  EXPECT_EQ(JsonError("[]"), "users.json: no rows: the array is empty");
  EXPECT_EQ(JsonError("[{}]"), "<ok>");  // one row, no columns
  EXPECT_EQ(JsonError("[{\"a\":1}").rfind("users.json: not valid JSON: ", 0), 0u);
  EXPECT_EQ(JsonError("").rfind("users.json: not valid JSON: ", 0), 0u);
  EXPECT_EQ(JsonError("[{\"a\":\"\xff\"}]").rfind("users.json: not valid JSON: ", 0), 0u);
  std::string deep = "[{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}]";
  EXPECT_EQ(JsonError(deep).rfind("users.json: not valid JSON: ", 0), 0u);
}

TEST(JsonRowsTest, RepeatedKeyFirstWins) {
  auto t = ParseJsonRows(R"([{"a":"first","a":"second"}])", "u.json");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->rows, (Rows{{"first"}}));
}

class LoadDataFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/volley_data_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const auto& f : files_) std::remove(f.c_str());
    rmdir(dir_.c_str());
  }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    files_.push_back(path);
    return path;
  }
  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(LoadDataFileTest, ReadsByFormat) {
  config::DataFile csv{Write("u.csv", "id\n1\n2\n"), config::DataFile::Format::kCsv,
                       config::DataFile::Strategy::kCycle};
  auto t = LoadDataFile(csv);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->rows, (Rows{{"1"}, {"2"}}));
  config::DataFile json{Write("u.json", R"([{"id":"x"}])"), config::DataFile::Format::kJson,
                        config::DataFile::Strategy::kRandom};
  t = LoadDataFile(json);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->rows, (Rows{{"x"}}));
}

TEST_F(LoadDataFileTest, Errors) {
  config::DataFile missing{dir_ + "/nope.csv"};
  auto t = LoadDataFile(missing);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, ErrorCode::kIo);
  EXPECT_EQ(t.error().message, dir_ + "/nope.csv: cannot open: No such file or directory");
  config::DataFile big{Write("big.csv", "id\n" + std::string(100, '1') + "\n")};
  t = LoadDataFile(big, 50);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(t.error().message, big.path + ": larger than the data file limit of 50 bytes");
  config::DataFile bad{Write("bad.csv", "a,b\n1\n")};
  t = LoadDataFile(bad);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().message, bad.path + ":2: row has 1 fields, the header has 2");
}

// A path the plan gives relative to itself is tried beside the plan, then as written (from
// the working directory); when neither opens, the error names both.
TEST_F(LoadDataFileTest, FallsBackToTheWorkingDirectoryAndNamesBothPlaces) {
  config::DataFile spec{dir_ + "/plans/u.csv"};
  spec.fallback_path = Write("u.csv", "id\n7\n");
  auto t = LoadDataFile(spec);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->rows, (Rows{{"7"}}));
  spec.fallback_path = dir_ + "/none.csv";
  t = LoadDataFile(spec);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, ErrorCode::kIo);
  EXPECT_EQ(t.error().message, "cannot open '" + dir_ + "/none.csv': not beside the plan (" + dir_ +
                                   "/plans/u.csv: No such file or directory) nor from " +
                                   "the working directory (" + dir_ +
                                   "/none.csv: No such file or directory); give a path " +
                                   "relative to the plan file");
  // Found beside the plan: the fallback is not looked at.
  spec.path = Write("b.csv", "id\n8\n");
  t = LoadDataFile(spec);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->rows, (Rows{{"8"}}));
}

}  // namespace
}  // namespace volley::engine::scenario
