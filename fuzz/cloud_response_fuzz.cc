// Fuzzes how the cloud output reads an answer of the metrics service (bytes from the
// network): the JSON error body, the status and the Retry-After header. Input: two bytes
// of status, then the Retry-After value up to the first newline, then the body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "response.h"
#include "volley/output/delivery.h"

using volley::output::cloud::ClassifyResponse;
using volley::output::cloud::Verdict;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int status = 100 + (data[0] << 8 | data[1]) % 500;
  const std::string rest(reinterpret_cast<const char*>(data + 2), size - 2);
  const size_t nl = rest.find('\n');
  const std::string retry_after = nl == std::string::npos ? "" : rest.substr(0, nl);
  const std::string body = nl == std::string::npos ? rest : rest.substr(nl + 1);
  const Verdict v = ClassifyResponse(status, body, retry_after);
  // Invariants: the kind follows the status, Retry-After is bounded, the message is one
  // printable line of bounded length.
  const bool retryable = status == 408 || status == 429 || status >= 500;
  if ((v.kind == Verdict::kOk) != (status >= 200 && status < 300)) abort();
  if ((v.kind == Verdict::kRetry) != retryable) abort();
  if (v.kind == Verdict::kRefused && status != 403) abort();
  if (v.retry_after && (!retryable || *v.retry_after > volley::output::delivery::kMaxRetryAfter ||
                        v.retry_after->count() < 0)) {
    abort();
  }
  if (v.what.size() > 220) abort();
  for (char c : v.what) {
    if (static_cast<unsigned char>(c) < 0x20) abort();
  }
  return 0;
}
