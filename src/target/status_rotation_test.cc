#include "status_rotation.h"

#include <gtest/gtest.h>

#include <map>

#include "response_table.h"

namespace volley::target {
namespace {

TEST(StatusRotationTest, EmptyMixMeansAlways200) {
  StatusRotation r({});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.code(r.Next()), 200);
}

TEST(StatusRotationTest, NinetyTenIsExactInEveryHundredAndSpreadOut) {
  StatusRotation r({{200, 90}, {503, 10}});
  int run = 0;
  int longest_503_run = 0;
  for (int block = 0; block < 50; ++block) {
    std::map<int, int> counts;
    for (int i = 0; i < 100; ++i) {
      const int code = r.code(r.Next());
      ++counts[code];
      run = code == 503 ? run + 1 : 0;
      longest_503_run = std::max(longest_503_run, run);
    }
    EXPECT_EQ(counts, (std::map<int, int>{{200, 90}, {503, 10}})) << "block " << block;
  }
  EXPECT_EQ(longest_503_run, 1);
}

TEST(StatusRotationTest, ThreeWayMixRepeatsEverySumOfWeights) {
  StatusRotation r({{200, 5}, {404, 3}, {500, 2}});
  std::vector<int> first;
  for (int i = 0; i < 10; ++i) first.push_back(r.code(r.Next()));
  std::map<int, int> counts;
  for (int code : first) ++counts[code];
  EXPECT_EQ(counts, (std::map<int, int>{{200, 5}, {404, 3}, {500, 2}}));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(r.code(r.Next()), first[i]) << i;
}

TEST(ResponseTableTest, BuildsExactBytes) {
  ResponseTable table({200, 204}, 13);
  {
    ResponseTable json({200}, 13, R"({"id":7})");
    const PreparedResponse* r = json.Find(200, ConnectionHeader{});
    ASSERT_NE(r, nullptr);
    EXPECT_NE(r->bytes.find("Content-Type: application/json\r\nContent-Length: 8\r\n"),
              std::string::npos)
        << r->bytes;
    EXPECT_EQ(r->bytes.substr(r->bytes.size() - 8), R"({"id":7})");
  }
  const PreparedResponse* ok = table.Find(200, ConnectionHeader::kNone);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->bytes,
            "HTTP/1.1 200 OK\r\nServer: volley\r\nContent-Type: text/plain\r\n"
            "Content-Length: 13\r\n\r\nHello, world\n");
  EXPECT_EQ(ok->Size(true), ok->bytes.size() - 13);
  const PreparedResponse* close = table.Find(200, ConnectionHeader::kClose);
  ASSERT_NE(close, nullptr);
  EXPECT_NE(close->bytes.find("\r\nConnection: close\r\n"), std::string::npos);
  const PreparedResponse* empty = table.Find(204, ConnectionHeader::kKeepAlive);
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->bytes,
            "HTTP/1.1 204 No Content\r\nServer: volley\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(table.Find(503, ConnectionHeader::kNone), nullptr);
}

TEST(ResponseTableTest, LargeBodiesAreStoredOnce) {
  ResponseTable table({200, 500}, ResponseTable::kInlineBodyLimit + 1);
  const PreparedResponse* a = table.Find(200, ConnectionHeader::kNone);
  const PreparedResponse* b = table.Find(500, ConnectionHeader::kClose);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->tail.size(), ResponseTable::kInlineBodyLimit + 1);
  EXPECT_EQ(a->tail.data(), b->tail.data());
  EXPECT_EQ(a->Size(false), a->bytes.size() + a->tail.size());
  EXPECT_EQ(MakeBody(20), "Hello, world\nHello, ");
}

}  // namespace
}  // namespace volley::target
