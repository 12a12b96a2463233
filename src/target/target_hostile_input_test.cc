// Hostile input: garbage, oversized heads and floods get an error answer and a closed
// connection, and the server's memory stays bounded.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "fakes/test_client.h"
#include "volley/target/target_server.h"

namespace volley::target {
namespace {

using target::testing::Get;
using target::testing::MustConnect;
using target::testing::StartServer;
using target::testing::StreamEnd;
using target::testing::TestClient;

struct BadRequest {
  const char* name;
  std::string bytes;
  int status;
};

class BadRequestTest : public ::testing::TestWithParam<BadRequest> {};

TEST_P(BadRequestTest, IsAnsweredWithAnErrorAndClosed) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto client = MustConnect(*server);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send(GetParam().bytes));
  auto r = client->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, GetParam().status);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_EQ(client->ReadToEnd(), StreamEnd::kEof);
  const TargetStats s = server->Stats();
  EXPECT_EQ(s.requests, 1u);
  EXPECT_EQ(s.by_status, (std::map<int, uint64_t>{{GetParam().status, 1}}));
}

INSTANTIATE_TEST_SUITE_P(
    Garbage, BadRequestTest,
    ::testing::Values(
        BadRequest{"NoVersion", "HELLO\r\n\r\n", 400},
        BadRequest{"TlsHello", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),
                   400},
        BadRequest{"Binary", std::string("\0\1\2\3\r\n\r\n", 8), 400},
        BadRequest{"HeaderWithoutColon", "GET / HTTP/1.1\r\nNo colon\r\n\r\n", 400},
        BadRequest{"SpaceInTarget", "GET /a b HTTP/1.1\r\n\r\n", 400},
        BadRequest{"OtherProtocol", "GET / FTP/1.0\r\n\r\n", 400},
        BadRequest{"BadContentLength", "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400},
        BadRequest{"FoldedHeader", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400},
        BadRequest{"LengthAndChunked",
                   "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
                   400},
        BadRequest{"BadChunkSize", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                   400},
        BadRequest{"Http2", "GET / HTTP/2.0\r\n\r\n", 505},
        BadRequest{"Gzip", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501}),
    [](const ::testing::TestParamInfo<BadRequest>& info) { return info.param.name; });

// A request whose head (request line + headers + empty line) is exactly `size` bytes.
std::string RequestWithHeadSize(size_t size) {
  const std::string start = "GET / HTTP/1.1\r\nX-Fill: ";
  const std::string end = "\r\n\r\n";
  return start + std::string(size - start.size() - end.size(), 'a') + end;
}

TEST(TargetHostileInputTest, HeadOfSixteenKibIsServedOneByteMoreIs400AndClosed) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  auto ok = MustConnect(*server);
  ASSERT_NE(ok, nullptr);
  ASSERT_TRUE(ok->Send(RequestWithHeadSize(16384) + Get()));
  auto r1 = ok->Read();
  auto r2 = ok->Read();
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r2->status, 200);

  auto big = MustConnect(*server);
  ASSERT_NE(big, nullptr);
  ASSERT_TRUE(big->Send(RequestWithHeadSize(16385)));
  auto r = big->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_EQ(big->ReadToEnd(), StreamEnd::kEof);
}

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0;
  size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

TEST(TargetHostileInputTest, EndlessHeadersAreCutOffWithoutMemoryGrowth) {
  auto server = StartServer();
  ASSERT_NE(server, nullptr);
  const std::string flood = "GET / HTTP/1.1\r\nX: " + std::string(1 << 20, 'a');
  const size_t before = ResidentBytes();
  constexpr int kClients = 16;  // 16 MiB of header bytes in all
  for (int c = 0; c < kClients; ++c) {
    auto client = MustConnect(*server);
    ASSERT_NE(client, nullptr);
    std::thread sender([&] { client->Send(flood); });  // may fail once the server closes
    auto r = client->Read();
    sender.join();
    ASSERT_TRUE(r.has_value()) << "client " << c;
    EXPECT_EQ(r->status, 400);
    EXPECT_NE(client->ReadToEnd(), StreamEnd::kTimeout);
  }
  const size_t after = ResidentBytes();
  EXPECT_LT(after, before + (4u << 20))
      << "resident memory grew from " << before << " to " << after;
  EXPECT_EQ(server->Stats().by_status, (std::map<int, uint64_t>{{400, kClients}}));
}

}  // namespace
}  // namespace volley::target
