// libFuzzer target for what an OTLP/HTTP endpoint answers (src/wire/otlp/otlp_response.cc):
// the ExportMetricsServiceResponse of a 200 and the google.rpc.Status of an error answer.
// Untrusted bytes from the network: decoding must never crash, must bound what it keeps
// (messages at most 1 KiB, one line) and must be deterministic.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fuzz_check.h"
#include "volley/wire/otlp_metrics.h"

namespace {

bool OneLine(const std::string& s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto a = volley::wire::DecodeOtlpExportResponse(bytes);
  auto b = volley::wire::DecodeOtlpExportResponse(bytes);
  FUZZ_CHECK(a.has_value() == b.has_value());
  if (a) {
    FUZZ_CHECK(a->partial == b->partial);
    FUZZ_CHECK(a->rejected_data_points == b->rejected_data_points);
    FUZZ_CHECK(a->error_message == b->error_message);
    FUZZ_CHECK(a->error_message.size() <= 1024);
    FUZZ_CHECK(OneLine(a->error_message));
    FUZZ_CHECK(a->partial || (a->rejected_data_points == 0 && a->error_message.empty()));
  } else {
    FUZZ_CHECK(!a.error().message.empty());
  }
  const std::string status = volley::wire::DecodeOtlpErrorStatus(bytes);
  FUZZ_CHECK(status.size() <= 1024);
  FUZZ_CHECK(OneLine(status));
  return 0;
}
