#include "run_cluster.h"

#include <gtest/gtest.h>

namespace volley::cli {
namespace {

TEST(RunCluster, AddressesAreHostPortListsAndEveryBadOneIsNamed) {
  auto ok = ParseClusterAddresses("127.0.0.1:8080, http://node-2:9000/,[::1]:7");
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(*ok, (std::vector<std::string>{"127.0.0.1:8080", "node-2:9000", "[::1]:7"}));
  auto bad = ParseClusterAddresses("a:1,nohost,:80,b:,c:8x,");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  const std::string& m = bad.error().message;
  for (const char* each : {"'nohost'", "':80'", "'b:'", "'c:8x'", "''"}) {
    EXPECT_NE(m.find(std::string("--cluster: ") + each + " is not HOST:PORT"), std::string::npos)
        << each << "\n"
        << m;
  }
  EXPECT_EQ(m.find("'a:1'"), std::string::npos);
}

}  // namespace
}  // namespace volley::cli
