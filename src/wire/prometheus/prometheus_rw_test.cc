#include "volley/wire/prometheus_rw.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "remote.pb.h"
#include "volley/wire/k6_metrics.h"

namespace volley::wire::prometheus {
namespace {

TEST(CanonicalLabels, SortedInByteOrderWithName) {
  auto l = CanonicalLabels("volley_requests_total", {{"zone", "a"}, {"Method", "GET"}, {"a", "1"}});
  ASSERT_TRUE(l.has_value()) << l.error().message;
  const Labels want = {
      {"Method", "GET"}, {"__name__", "volley_requests_total"}, {"a", "1"}, {"zone", "a"}};
  EXPECT_EQ(*l, want);  // uppercase before "__name__", which is before lowercase
}

TEST(CanonicalLabels, RefusesDuplicatesAndEmpties) {
  EXPECT_FALSE(CanonicalLabels("m", {{"a", "1"}, {"a", "2"}}).has_value());
  EXPECT_FALSE(CanonicalLabels("m", {{"__name__", "other"}}).has_value());
  EXPECT_FALSE(CanonicalLabels("m", {{"", "1"}}).has_value());
  auto empty_value = CanonicalLabels("m", {{"a", ""}});
  ASSERT_FALSE(empty_value.has_value());
  EXPECT_NE(empty_value.error().message.find("'a' has an empty value"), std::string::npos);
  EXPECT_FALSE(CanonicalLabels("", {}).has_value());
}

TEST(WriteRequest, RoundTripsThroughProtobufAndSnappy) {
  std::vector<RwSeries> in = {
      {{{"__name__", "x_total"}, {"job", "volley"}}, {{1000, 3}, {2000, 5.5}}},
      {{{"__name__", "y"}}, {{3000, StaleNaN()}}},
  };
  const std::string body = EncodeBody(in);
  // What the generated code reads from the uncompressed bytes.
  auto raw = k6::SnappyUncompress(body, 1 << 20);
  ASSERT_TRUE(raw.has_value());
  ::prometheus::WriteRequest req;
  ASSERT_TRUE(req.ParseFromString(*raw));
  ASSERT_EQ(req.timeseries_size(), 2);
  EXPECT_EQ(req.timeseries(0).labels(1).name(), "job");
  EXPECT_EQ(req.timeseries(0).samples(1).timestamp(), 2000);
  EXPECT_EQ(req.timeseries(0).samples(1).value(), 5.5);
  uint64_t bits = 0;
  const double stale = req.timeseries(1).samples(0).value();
  std::memcpy(&bits, &stale, sizeof bits);
  EXPECT_EQ(bits, kStaleNaNBits);

  auto out = DecodeBody(body);
  ASSERT_TRUE(out.has_value());
  ASSERT_EQ(out->size(), 2u);
  EXPECT_EQ((*out)[0].labels, in[0].labels);
  EXPECT_EQ((*out)[0].samples[0].value, 3);
  EXPECT_TRUE(IsStaleNaN((*out)[1].samples[0].value));
  EXPECT_FALSE(IsStaleNaN(std::nan("")));
}

TEST(WriteRequest, FieldNumbersOfTheSpec) {
  // TimeSeries{labels=1{name=1 "a", value=2 "b"}, samples=2{value=1 (fixed64) 1.0,
  // timestamp=2 (varint) 7}} inside WriteRequest.timeseries = 1, hand-assembled.
  const std::string label = std::string(
      "\x0a\x01"
      "a"
      "\x12\x01"
      "b",
      6);
  std::string sample = "\x09";
  const double one = 1.0;
  char buf[8];
  std::memcpy(buf, &one, 8);
  sample.append(buf, 8);
  sample += std::string("\x10\x07", 2);
  std::string ts = "\x0a" + std::string(1, static_cast<char>(label.size())) + label + "\x12" +
                   std::string(1, static_cast<char>(sample.size())) + sample;
  const std::string wr = "\x0a" + std::string(1, static_cast<char>(ts.size())) + ts;
  EXPECT_EQ(EncodeWriteRequest({{{{"a", "b"}}, {{7, 1.0}}}}), wr);
}

}  // namespace
}  // namespace volley::wire::prometheus
