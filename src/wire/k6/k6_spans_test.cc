#include <gtest/gtest.h>

#include <random>

#include "volley/wire/k6_metrics.h"

namespace volley::wire::k6 {
namespace {

using metrics::Histogram;
using Pairs = std::vector<std::pair<uint32_t, uint64_t>>;

TEST(K6SpansTest, GoldenBucketIndexesOfTheSpec) {
  // Resolution 0.001 with values in ms: 6 ms -> 827, 7 ms -> 858. Resolution 1: 2275 -> 654.
  Histogram ms(0.001);
  ms.Record(6);
  ms.Record(7);
  BucketSpans s = EncodeSpans(ms);
  EXPECT_EQ(s.counters, (std::vector<uint32_t>{1, 1}));
  EXPECT_EQ(s.spans, (std::vector<std::pair<uint32_t, uint32_t>>{{827, 1}, {30, 1}}));
  Histogram one(1.0);
  one.Record(2275);
  EXPECT_EQ(EncodeSpans(one).spans, (std::vector<std::pair<uint32_t, uint32_t>>{{654, 1}}));
  // volley's seconds at 1e-6 land in the same buckets as k6's milliseconds at 0.001.
  Histogram s6(1e-6);
  s6.RecordUnits(6000);
  EXPECT_EQ(EncodeSpans(s6).spans.front().first, 827u);
}

TEST(K6SpansTest, GoldenSpansOfTheSpec) {
  Histogram h(1.0);
  for (double v : {7.0, 8.0, 9.0, 11.0, 12.0, 11.5, 10.5}) h.Record(v);
  BucketSpans s = EncodeSpans(h);
  EXPECT_EQ(s.counters, (std::vector<uint32_t>{1, 1, 1, 2, 2}));
  EXPECT_EQ(s.spans, (std::vector<std::pair<uint32_t, uint32_t>>{{7, 3}, {1, 2}}));
  auto decoded = DecodeSpans(s);
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(*decoded, (Pairs{{7, 1}, {8, 1}, {9, 1}, {11, 2}, {12, 2}}));
}

TEST(K6SpansTest, EmptyHistogramHasNoSpans) {
  BucketSpans s = EncodeSpans(Histogram(1e-6));
  EXPECT_TRUE(s.counters.empty());
  EXPECT_TRUE(s.spans.empty());
  auto decoded = DecodeSpans(s);
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(decoded->empty());
}

TEST(K6SpansTest, RandomHistogramsRoundTripExactly) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(9, 2.5);  // units spread over many powers of two
  for (int round = 0; round < 50; ++round) {
    Histogram h(1e-6);
    const int n = static_cast<int>(rng() % 2000);
    for (int i = 0; i < n; ++i) h.RecordUnits(static_cast<uint64_t>(dist(rng)));
    if (round == 0) h.RecordUnits(UINT64_MAX);  // the very last bucket
    auto decoded = DecodeSpans(EncodeSpans(h));
    ASSERT_TRUE(decoded) << decoded.error().message;
    Pairs expected;
    h.ForEachBucket([&](uint32_t i, uint64_t c) { expected.emplace_back(i, c); });
    EXPECT_EQ(*decoded, expected);
  }
}

TEST(K6SpansTest, RejectsBadSpans) {
  auto err = [](BucketSpans s) {
    auto r = DecodeSpans(s);
    return r ? std::string("ok") : r.error().message;
  };
  // More counters than the spans cover, and fewer.
  EXPECT_EQ(err({{1, 2, 3}, {{5, 2}}}),
            "spans: the spans cover 2 buckets but there are 3 counters");
  EXPECT_EQ(err({{1}, {{5, 2}}}), "spans: the spans cover 2 buckets but there are 1 counters");
  EXPECT_EQ(err({{1}, {{5, 0}, {0, 1}}}), "spans: a span has length 0");
  // Past the largest index (7423): absolute, and reached through offsets.
  EXPECT_EQ(err({{1}, {{7424, 1}}}), "spans[0]: bucket index 7424 is beyond the largest (7423)");
  EXPECT_EQ(err({{1, 1}, {{7423, 1}, {0, 1}}}),
            "spans[1]: bucket index 7424 is beyond the largest (7423)");
  EXPECT_EQ(err({{1, 1}, {{0, 1}, {UINT32_MAX, 1}}}).substr(0, 32),
            "spans[1]: bucket index 429496729");
  EXPECT_EQ(err({{1}, {{7423, 1}}}), "ok");
}

TEST(K6SnappyTest, RoundTripAndLimits) {
  std::string raw(100000, 'x');
  for (size_t i = 0; i < raw.size(); i += 7) raw[i] = static_cast<char>('a' + i % 26);
  const std::string c = SnappyCompress(raw);
  EXPECT_LT(c.size(), raw.size() / 2);
  auto back = SnappyUncompress(c, raw.size());
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, raw);
  auto over = SnappyUncompress(c, raw.size() - 1);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().message,
            "snappy: the body would uncompress to 100000 bytes, over the limit of 99999");
  // A length header claiming 2^32 - 1 bytes is refused before any allocation.
  auto huge = SnappyUncompress(std::string("\xff\xff\xff\xff\x0f", 5), 1 << 20);
  ASSERT_FALSE(huge);
  EXPECT_NE(huge.error().message.find("4294967295 bytes"), std::string::npos);
  auto garbage = SnappyUncompress("\x05zz", 100);
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code, ErrorCode::kProtocol);
  EXPECT_EQ(garbage.error().message, "snappy: the body is corrupt (block does not decode)");
  auto framed = SnappyUncompress(std::string("\xff\x06\x00\x00sNaPpY\x01", 11), 100);
  ASSERT_FALSE(framed);
  EXPECT_EQ(framed.error().message,
            "snappy: the body is in the framed (stream) format; send the block format");
  auto bad_header = SnappyUncompress(std::string("\xff\xff\xff\xff\xff\xff", 6), 100);
  ASSERT_FALSE(bad_header);
  EXPECT_EQ(bad_header.error().message,
            "snappy: the body is not snappy block data (bad length header)");
}

}  // namespace
}  // namespace volley::wire::k6
