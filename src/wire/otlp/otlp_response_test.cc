#include <gtest/gtest.h>

#include <string>

#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "volley/wire/otlp_metrics.h"

namespace volley::wire {
namespace {

using opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceResponse;

TEST(OtlpResponse, EmptyBodyIsFullSuccess) {
  auto r = DecodeOtlpExportResponse("");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->partial);
}

TEST(OtlpResponse, PartialSuccess) {
  ExportMetricsServiceResponse resp;
  resp.mutable_partial_success()->set_rejected_data_points(3);
  resp.mutable_partial_success()->set_error_message("bad\nname");
  auto r = DecodeOtlpExportResponse(resp.SerializeAsString());
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->partial);
  EXPECT_EQ(r->rejected_data_points, 3);
  EXPECT_EQ(r->error_message, "bad?name");  // one log line
}

TEST(OtlpResponse, LongMessageIsClippedAtACharacterBoundary) {
  ExportMetricsServiceResponse resp;
  std::string msg(1023, 'a');
  msg += "\xc3\xa9\xc3\xa9";  // "éé": the first one straddles the 1024-byte cut
  resp.mutable_partial_success()->set_error_message(msg);
  auto r = DecodeOtlpExportResponse(resp.SerializeAsString());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->error_message, std::string(1023, 'a'));
}

TEST(OtlpResponse, GarbageIsAProtocolError) {
  auto r = DecodeOtlpExportResponse("<html>bad gateway</html>");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kProtocol);
  EXPECT_EQ(r.error().message, "OTLP response: not an ExportMetricsServiceResponse (24 bytes)");
}

TEST(OtlpResponse, ErrorStatusMessage) {
  google::rpc::Status st;
  st.set_code(3);
  st.set_message("invalid metric name");
  EXPECT_EQ(DecodeOtlpErrorStatus(st.SerializeAsString()), "invalid metric name");
  EXPECT_EQ(DecodeOtlpErrorStatus("\xff\xff\xff"), "");
  EXPECT_EQ(DecodeOtlpErrorStatus(""), "");
}

}  // namespace
}  // namespace volley::wire
