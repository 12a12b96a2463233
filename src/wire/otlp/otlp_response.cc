// Decoding of what an OTLP/HTTP endpoint answers: untrusted bytes, so every failure is a
// clear error and nothing is kept beyond small bounds.
#include <algorithm>
#include <cstdint>
#include <string>

#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "volley/wire/otlp_metrics.h"

namespace volley::wire {
namespace {

constexpr size_t kMaxMessage = 1024;  // of an error message kept for logs

// The first kMaxMessage bytes, cut back to a UTF-8 character boundary, control characters
// (a log line must stay one line) replaced by '?'.
std::string Clip(const std::string& s) {
  size_t n = std::min(s.size(), kMaxMessage);
  if (n < s.size()) {
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  }
  std::string out = s.substr(0, n);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

}  // namespace

Result<OtlpExportResponse> DecodeOtlpExportResponse(std::string_view body) {
  OtlpExportResponse out;
  if (body.empty()) return out;
  opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceResponse response;
  if (body.size() > static_cast<size_t>(INT32_MAX) ||
      !response.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return MakeError(ErrorCode::kProtocol, "OTLP response: not an ExportMetricsServiceResponse (" +
                                               std::to_string(body.size()) + " bytes)");
  }
  if (response.has_partial_success()) {
    out.partial = true;
    out.rejected_data_points = response.partial_success().rejected_data_points();
    out.error_message = Clip(response.partial_success().error_message());
  }
  return out;
}

std::string DecodeOtlpErrorStatus(std::string_view body) {
  if (body.empty() || body.size() > static_cast<size_t>(INT32_MAX)) return "";
  google::rpc::Status status;
  if (!status.ParseFromArray(body.data(), static_cast<int>(body.size()))) return "";
  return Clip(status.message());
}

}  // namespace volley::wire
