// libFuzzer target for what volley decodes from Consul and Google (issue 15): the
// /v1/health/service answer discovery reads, X-Consul-Index, a service-account key file,
// and base64 (KV values, JWT parts).
//
// Invariants: no crash, bounded output (peers never more than the 4096 accepted), every
// peer has a normalized address with a port; base64 round-trips.
#include <cstdint>
#include <string>
#include <string_view>

#include "blocking_query.h"
#include "fuzz_check.h"
#include "volley/cluster/config_source.h"
#include "volley/cluster/consul_discovery.h"
#include "volley/common/base64.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace volley;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto peers = cluster::ParseConsulHealth(in)) {
    FUZZ_CHECK(peers->size() <= 4096);
    for (const auto& p : *peers) FUZZ_CHECK(p.address.rfind(':') != std::string::npos);
  }
  (void)cluster::ParseConsulIndex(in);
  (void)cluster::ParseServiceAccountKey(in);
  if (auto d = Base64Decode(in)) FUZZ_CHECK(d->size() <= size);
  FUZZ_CHECK(Base64Decode(Base64Encode(in)) == std::string(in));
  FUZZ_CHECK(Base64Decode(Base64UrlEncode(in)) == std::string(in));
  return 0;
}
