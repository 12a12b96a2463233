#include "volley/target/options.h"

#include <gtest/gtest.h>

namespace volley::target {
namespace {

using namespace std::chrono_literals;

// The error names the bad text and shows an accepted form.
void ExpectError(const Error& e, const std::string& bad, const std::string& form) {
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(e.message.find("'" + bad + "'"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find(form), std::string::npos) << e.message;
}

TEST(ParseLatencyTest, AcceptsAFixedValueOrARange) {
  auto fixed = ParseLatency("20ms");
  ASSERT_TRUE(fixed.has_value());
  EXPECT_EQ(fixed->min, Nanos(20ms));
  EXPECT_EQ(fixed->max, Nanos(20ms));
  auto range = ParseLatency(" 10ms-1.5s ");
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->min, Nanos(10ms));
  EXPECT_EQ(range->max, Nanos(1500ms));
  auto zero = ParseLatency("0ms");
  ASSERT_TRUE(zero.has_value());
  EXPECT_EQ(zero->max, Nanos(0));
}

TEST(ParseLatencyTest, RejectsBadText) {
  for (const char* bad : {"", "fast", "10ms-", "-10ms", "30ms-10ms", "1ms-2ms-3ms", "10xs"}) {
    auto r = ParseLatency(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    ExpectError(r.error(), bad, "10ms-30ms");
  }
}

TEST(ParseStatusMixTest, AcceptsWeightedCodes) {
  auto mix = ParseStatusMix("200:90, 503:10 ,404:1");
  ASSERT_TRUE(mix.has_value());
  ASSERT_EQ(mix->size(), 3u);
  EXPECT_EQ((*mix)[0].code, 200);
  EXPECT_EQ((*mix)[0].weight, 90u);
  EXPECT_EQ((*mix)[1].code, 503);
  EXPECT_EQ((*mix)[1].weight, 10u);
  EXPECT_EQ((*mix)[2].code, 404);
  EXPECT_EQ((*mix)[2].weight, 1u);
}

TEST(ParseStatusMixTest, RejectsBadText) {
  for (const char* bad : {"", "200", "200:", ":5", "abc:1", "200:x", "200:0", "199:1", "600:1",
                          "200:90,", "200:1,200:2", "200:1000001", "200:-1"}) {
    auto r = ParseStatusMix(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    ExpectError(r.error(), bad, "200:90,503:10");
  }
}

TEST(ParseStallTest, AcceptsDurationOverPeriod) {
  auto s = ParseStall("1s/5s");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->duration, Nanos(1s));
  EXPECT_EQ(s->period, Nanos(5s));
  auto ms = ParseStall("300ms/1s");
  ASSERT_TRUE(ms.has_value());
  EXPECT_EQ(ms->duration, Nanos(300ms));
}

TEST(ParseStallTest, RejectsBadText) {
  for (const char* bad : {"", "1s", "5s/1s", "1s/1s", "0s/1s", "x/1s", "1s/y", "1s/5s/6s"}) {
    auto r = ParseStall(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    ExpectError(r.error(), bad, "1s/5s");
  }
}

TEST(ParseListenAddressTest, AcceptsTheUsualForms) {
  struct Case {
    const char* text;
    const char* host;
    uint16_t port;
  };
  for (const Case& c : {Case{"127.0.0.1:8080", "127.0.0.1", 8080}, Case{":8080", "0.0.0.0", 8080},
                        Case{"0.0.0.0:0", "0.0.0.0", 0}, Case{"[::1]:9000", "::1", 9000},
                        Case{"localhost:65535", "127.0.0.1", 65535}}) {
    auto a = ParseListenAddress(c.text);
    ASSERT_TRUE(a.has_value()) << c.text << ": " << a.error().message;
    EXPECT_EQ(a->host, c.host) << c.text;
    EXPECT_EQ(a->port, c.port) << c.text;
  }
}

TEST(ParseListenAddressTest, RejectsBadText) {
  for (const char* bad : {"", "8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                          "127.0.0.1:http", "example.com:80", "::1:80", "[::1:80", "1.2.3:80"}) {
    auto r = ParseListenAddress(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    ExpectError(r.error(), bad, "127.0.0.1:8080");
  }
}

TEST(ValidateTargetOptionsTest, AcceptsDefaultsAndNamesTheBadField) {
  EXPECT_TRUE(ValidateTargetOptions(TargetOptions{}).has_value());
  struct Case {
    const char* field;
    TargetOptions options;
  };
  std::vector<Case> cases;
  cases.push_back({"listen", TargetOptions{.listen = "nowhere"}});
  cases.push_back({"threads", TargetOptions{.threads = -1}});
  cases.push_back({"threads", TargetOptions{.threads = kMaxTargetThreads + 1}});
  cases.push_back({"latency", TargetOptions{.latency_min = Nanos(2ms), .latency_max = Nanos(1ms)}});
  cases.push_back({"status mix", TargetOptions{.status_mix = {{99, 1}}}});
  cases.push_back({"status mix", TargetOptions{.status_mix = {{200, 0}}}});
  cases.push_back({"status mix", TargetOptions{.status_mix = {{200, 1}, {200, 1}}}});
  cases.push_back({"stall", TargetOptions{.stall_duration = Nanos(1s)}});
  cases.push_back({"stall", TargetOptions{.stall_duration = Nanos(2s), .stall_period = Nanos(1s)}});
  cases.push_back({"body size", TargetOptions{.body_size = kMaxTargetBodySize + 1}});
  for (const Case& c : cases) {
    auto r = ValidateTargetOptions(c.options);
    ASSERT_FALSE(r.has_value()) << c.field;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find(c.field), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace volley::target
