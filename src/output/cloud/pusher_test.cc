#include "pusher.h"

#include <gtest/gtest.h>

namespace volley::output::cloud {
namespace {

using std::chrono::seconds;

TEST(ClassifyResponse, SuccessRetryRejectRefuse) {
  EXPECT_EQ(ClassifyResponse(200, "", "").kind, Verdict::kOk);
  EXPECT_EQ(ClassifyResponse(204, "", "").kind, Verdict::kOk);
  for (int status : {408, 429, 500, 502, 503, 504}) {
    EXPECT_EQ(ClassifyResponse(status, "", "").kind, Verdict::kRetry) << status;
  }
  for (int status : {301, 400, 401, 404, 413, 422}) {
    EXPECT_EQ(ClassifyResponse(status, "", "").kind, Verdict::kReject) << status;
  }
  // 403 stops the output only with error code 4.
  const Verdict refused =
      ClassifyResponse(403, R"({"error":{"code":4,"message":"no more metrics"}})", "");
  EXPECT_EQ(refused.kind, Verdict::kRefused);
  EXPECT_EQ(refused.what, "HTTP 403: no more metrics");
  EXPECT_EQ(ClassifyResponse(403, R"({"error":{"code":5}})", "").kind, Verdict::kReject);
  EXPECT_EQ(ClassifyResponse(403, "not json", "").kind, Verdict::kReject);
  EXPECT_EQ(ClassifyResponse(403, R"({"error":"4"})", "").kind, Verdict::kReject);
  EXPECT_EQ(ClassifyResponse(403, R"([1,2])", "").kind, Verdict::kReject);
}

TEST(ClassifyResponse, RetryAfterComesWithRetryableAnswers) {
  EXPECT_EQ(ClassifyResponse(429, "", "3").retry_after, seconds(3));
  EXPECT_EQ(ClassifyResponse(503, "", "1").retry_after, seconds(1));
  EXPECT_EQ(ClassifyResponse(503, "", "").retry_after, std::nullopt);
  EXPECT_EQ(ClassifyResponse(400, "", "3").retry_after, std::nullopt);
  EXPECT_EQ(ClassifyResponse(503, "", "").what, "HTTP 503");
}

TEST(PushHeaders, V2HeadersOfTheSpec) {
  CloudConfig c;
  c.token = "abc";
  auto h = PushHeaders(c, "0123456789abcdef");
  EXPECT_EQ(h.find("Content-Encoding")->second, "snappy");
  EXPECT_EQ(h.find("K6-Metrics-Protocol-Version")->second, "2.0");
  EXPECT_EQ(h.find("Authorization")->second, "Token abc");
  EXPECT_EQ(h.find("K6-Idempotency-Key")->second, "0123456789abcdef");
  EXPECT_EQ(h.find("User-Agent")->second, "volley/0.1.0");
  c.auth_scheme = "Bearer";
  EXPECT_EQ(PushHeaders(c, "k").find("Authorization")->second, "Bearer abc");
}

TEST(PushHeaders, V1HasNoEncodingAndNoTokenMeansNoAuthorization) {
  CloudConfig c;
  c.api_version = 1;
  auto h = PushHeaders(c, "k");
  EXPECT_EQ(h.count("Content-Encoding"), 0u);
  EXPECT_EQ(h.count("K6-Metrics-Protocol-Version"), 0u);
  EXPECT_EQ(h.count("Authorization"), 0u);
  EXPECT_EQ(h.count("K6-Idempotency-Key"), 1u);
}

TEST(IdempotencyKey, SixteenLowercaseHexChars) {
  EXPECT_EQ(IdempotencyKey(0), "0000000000000000");
  EXPECT_EQ(IdempotencyKey(0xdeadbeefULL), "00000000deadbeef");
  EXPECT_EQ(IdempotencyKey(UINT64_MAX), "ffffffffffffffff");
}

}  // namespace
}  // namespace volley::output::cloud
