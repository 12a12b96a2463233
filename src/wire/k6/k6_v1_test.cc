#include "volley/wire/k6_v1.h"

#include <gtest/gtest.h>

#include <cmath>

namespace volley::wire::k6 {
namespace {

using metrics::MetricType;

// The three shapes of seed 001, with "%d" filled in.
constexpr const char* kSeedBody = R"([
{"type":"Point","metric":"vus","data":{"time":"1700000000123456","type":"gauge",
  "tags":{"aaa":"bbb","ccc":"123"},"value":999}},
{"type":"Points","metric":"iter_li_all","data":{"time":"1700000001000000","type":"counter",
  "tags":{"test":"mest"},
  "values":{"data_received":6789.1,"data_sent":1234.5,"iteration_duration":10000}}},
{"type":"AggregatedPoints","metric":"http_req_li_all","data":{"time":"1700000002000000",
  "type":"aggregated_trend","count":2,"tags":{"test":"mest"},
  "values":{"http_req_duration":{"min":0.013,"max":0.123,"avg":0.068},
            "http_req_blocked":{"min":0.001,"max":0.003,"avg":0.002}}}}
])";

TEST(K6V1Test, DecodesTheSeedShapes) {
  auto r = DecodeV1(kSeedBody);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ(
      std::get<V1Point>((*r)[0]),
      (V1Point{
          "vus", 1700000000123456, MetricType::kGauge, {{"aaa", "bbb"}, {"ccc", "123"}}, 999}));
  EXPECT_EQ(
      std::get<V1Points>((*r)[1]),
      (V1Points{
          "iter_li_all",
          1700000001000000,
          MetricType::kCounter,
          {{"test", "mest"}},
          {{"data_received", 6789.1}, {"data_sent", 1234.5}, {"iteration_duration", 10000}}}));
  EXPECT_EQ(std::get<V1AggregatedPoints>((*r)[2]),
            (V1AggregatedPoints{"http_req_li_all",
                                1700000002000000,
                                MetricType::kTrend,
                                2,
                                {{"test", "mest"}},
                                {{"http_req_blocked", {0.001, 0.003, 0.002}},
                                 {"http_req_duration", {0.013, 0.123, 0.068}}}}));
}

TEST(K6V1Test, RoundTripsAndWritesTimeAsString) {
  std::vector<V1Sample> in = {
      V1Point{"requests_total", 5, MetricType::kCounter, {{"status_code", "200"}}, 3},
      V1Points{"g", 6, MetricType::kTrend, {}, {{"a", 0.5}, {"b", 1.5}}},
      V1AggregatedPoints{"rates", 7, MetricType::kRate, 10, {}, {{"checks", {0, 1, 0.3}}}},
  };
  const std::string json = EncodeV1(in);
  EXPECT_NE(json.find(R"("time":"5")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("type":"aggregated_rate")"), std::string::npos) << json;
  EXPECT_EQ(json.find(' '), std::string::npos);
  auto back = DecodeV1(json);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, in);
  // A JSON integer time and absent tags are accepted.
  auto num =
      DecodeV1(R"([{"type":"Point","metric":"x","data":{"time":17,"type":"rate","value":1}}])");
  ASSERT_TRUE(num) << num.error().message;
  EXPECT_EQ(std::get<V1Point>((*num)[0]).time_us, 17);
  EXPECT_TRUE(std::get<V1Point>((*num)[0]).tags.empty());
}

std::string Err(std::string_view body, const V1Limits& limits = {}) {
  auto r = DecodeV1(body, limits);
  return r ? "ok" : r.error().message;
}

TEST(K6V1Test, RejectsBadBodiesNamingTheSample) {
  EXPECT_EQ(Err("[{"), "v1: the body is not valid JSON");
  EXPECT_EQ(Err("{}"), "v1: the body must be a JSON array");
  EXPECT_EQ(Err("[1]"), "v1 sample [0]: must be an object");
  const std::string ok =
      R"({"type":"Point","metric":"x","data":{"time":"1","type":"gauge","value":1}})";
  EXPECT_EQ(
      Err("[" + ok + "," + R"({"type":"Pointz","metric":"x","data":{"time":"1","type":"gauge"}})" +
          "]"),
      "v1 sample [1]: type must be \"Point\", \"Points\" or \"AggregatedPoints\", got \"Pointz\"");
  EXPECT_EQ(Err(R"([{"type":"Point","metric":"x","data":{"time":"1","type":"gauge"}}])"),
            "v1 sample [0]: data.value is missing");
  EXPECT_EQ(Err(R"([{"type":"Point","metric":"x","data":{"time":"1x","type":"gauge","value":1}}])"),
            "v1 sample [0]: data.time must be unix microseconds as a decimal string or integer");
  EXPECT_EQ(Err(R"([{"type":"Point","metric":"x","data":{"time":"1","type":"histo","value":1}}])"),
            "v1 sample [0]: data.type must be \"counter\", \"gauge\", \"rate\" or \"trend\", got "
            "\"histo\"");
  EXPECT_EQ(
      Err(R"([{"type":"Point","metric":"x","data":{"time":"1","type":"gauge","value":"1"}}])"),
      "v1 sample [0]: data.value must be a number");
  EXPECT_EQ(
      Err(R"([{"type":"Point","metric":"x","data":{"time":"1","type":"gauge","value":1,"tags":{"a":[]}}}])"),
      "v1 sample [0]: data.tags.a must be a string");
  EXPECT_EQ(
      Err(R"([{"type":"AggregatedPoints","metric":"x","data":{"time":"1","type":"aggregated_trend","count":-1,"values":{}}}])"),
      "v1 sample [0]: data.count must be a non-negative integer");
  EXPECT_EQ(
      Err(R"([{"type":"AggregatedPoints","metric":"x","data":{"time":"1","type":"aggregated_trend","count":1,"values":{"d":{"min":2,"max":1,"avg":1}}}}])"),
      "v1 sample [0]: data.values.d: min is above max");
  EXPECT_EQ(
      Err(R"([{"type":"AggregatedPoints","metric":"x","data":{"time":"1","type":"aggregated_rate","count":1,"values":{"d":{"min":0,"max":1,"avg":2}}}}])"),
      "v1 sample [0]: data.values.d: avg of an aggregated_rate must be within [0, 1]");
  EXPECT_EQ(
      Err(R"([{"type":"AggregatedPoints","metric":"x","data":{"time":"1","type":"trend","count":1,"values":{}}}])"),
      "v1 sample [0]: data.type of AggregatedPoints must be \"aggregated_trend\" or "
      "\"aggregated_rate\", got \"trend\"");
  EXPECT_EQ(
      Err(R"([{"type":"Points","metric":"x","data":{"time":"1","type":"counter","values":{"a":1e999}}}])"),
      "v1: the body is not valid JSON");  // nlohmann refuses out-of-range numbers
}

TEST(K6V1Test, EnforcesLimits) {
  const std::string ok =
      R"({"type":"Point","metric":"x","data":{"time":"1","type":"gauge","value":1}})";
  EXPECT_EQ(Err("[" + ok + "," + ok + "," + ok + "]", {.max_samples = 2}),
            "v1: more than 2 samples in one body");
  EXPECT_EQ(
      Err(R"([{"type":"Points","metric":"x","data":{"time":"1","type":"counter","values":{"a":1,"b":2}}}])",
          {.max_values_per_sample = 1}),
      "v1 sample [0]: data.values has more than 1 entries");
  EXPECT_EQ(
      Err(R"([{"type":"Point","metric":"x","data":{"time":"1","type":"gauge","value":1,"tags":{"a":"1","b":"2"}}}])",
          {.max_tags = 1}),
      "v1 sample [0]: data.tags has more than 1 tags");
  EXPECT_EQ(Err(std::string(10000, '[') + std::string(10000, ']')),
            "v1: the JSON nests deeper than 6 levels");
}

}  // namespace
}  // namespace volley::wire::k6
