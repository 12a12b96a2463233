#include "entry.h"

#include <gtest/gtest.h>

namespace volley::cluster {
namespace {

TEST(Entry, EveryLengthIsPaddedToEightWithTheTrueLengthInside) {
  for (size_t n = 0; n <= 40; ++n) {
    const std::string payload(n, 'x');
    const std::string framed = EncodeEntry(300, payload);
    EXPECT_EQ(framed.size() % 8, 0u) << n;
    EXPECT_EQ(framed.size(), (16 + n + 7) / 8 * 8) << n;
    auto d = DecodeEntry(framed);
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(d->type, 300);
    EXPECT_EQ(d->payload, payload);
  }
}

TEST(Entry, TwelveBytesOfPayloadBecomeThirtyTwoBytes) {
  const std::string framed = EncodeEntry(kEntryCoordinator, "hello-from-3");
  ASSERT_EQ(framed.size(), 32u);
  EXPECT_EQ(framed.substr(0, 4), "VLYE");
  EXPECT_EQ(framed.substr(16, 12), "hello-from-3");
  EXPECT_EQ(framed.substr(28), std::string(4, '\0'));
}

TEST(Entry, RefusesWhatIsNotAnEntry) {
  const std::string good = EncodeEntry(kEntryMembers, "abc");
  EXPECT_FALSE(DecodeEntry(""));
  EXPECT_FALSE(DecodeEntry(good.substr(0, 8)));
  EXPECT_FALSE(DecodeEntry(good.substr(0, 20)));  // not a multiple of 8
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_NE(DecodeEntry(bad_magic).error().message.find("magic"), std::string::npos);
  std::string long_len = good;
  long_len[8] = 9;  // 9 bytes cannot fit in 24 - 16 = 8
  EXPECT_NE(DecodeEntry(long_len).error().message.find("exceeds"), std::string::npos);
  std::string short_len = good;
  short_len[8] = 0;  // 0 bytes would need no padding word at all
  EXPECT_FALSE(DecodeEntry(short_len));
  std::string dirty = good;
  dirty[23] = 'z';
  EXPECT_NE(DecodeEntry(dirty).error().message.find("padding"), std::string::npos);
  std::string version = good;
  version[6] = 2;
  EXPECT_NE(DecodeEntry(version).error().message.find("version 2"), std::string::npos);
}

}  // namespace
}  // namespace volley::cluster
