#include "volley/common/duration.h"

#include <gtest/gtest.h>

namespace volley {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ParseDuration, AcceptsTheSpecForms) {
  EXPECT_EQ(*ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(*ParseDuration("30s"), seconds(30));
  EXPECT_EQ(*ParseDuration("5m"), minutes(5));
  EXPECT_EQ(*ParseDuration("2h"), hours(2));
  EXPECT_EQ(*ParseDuration("1d"), hours(24));
  EXPECT_EQ(*ParseDuration("45"), seconds(45));
  EXPECT_EQ(*ParseDuration("1.5s"), milliseconds(1500));
  EXPECT_EQ(*ParseDuration("3m20s"), seconds(200));
  EXPECT_EQ(*ParseDuration(" 250us "), std::chrono::microseconds(250));
}

TEST(ParseDuration, BareNumberMeansMillisecondsForThinkTime) {
  EXPECT_EQ(*ParseDurationMillisDefault("5000"), seconds(5));
  EXPECT_EQ(*ParseDurationMillisDefault("2s"), seconds(2));
}

TEST(ParseDuration, RejectsGarbageWithAHelpfulMessage) {
  for (const char* bad : {"", "abc", "5x", "s", "1s2", "-5s", "1e999s"}) {
    auto r = ParseDuration(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find("500ms"), std::string::npos);
  }
}

TEST(ParseSize, BinaryMultiples) {
  EXPECT_EQ(*ParseSize("512"), 512u);
  EXPECT_EQ(*ParseSize("4k"), 4096u);
  EXPECT_EQ(*ParseSize("1MiB"), 1u << 20);
  EXPECT_FALSE(ParseSize("4q").has_value());
  EXPECT_FALSE(ParseSize("").has_value());
}

TEST(FormatDuration, Readable) {
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1.50s");
  EXPECT_EQ(FormatDuration(seconds(200)), "3m20s");
  EXPECT_EQ(FormatDuration(std::chrono::microseconds(250)), "250.00us");
}

}  // namespace
}  // namespace volley
