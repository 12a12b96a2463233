// libFuzzer target for the cluster's log-entry framing (src/cluster/entry.h): what the
// state machine decodes from every entry Raft applies.
//
// Input: the bytes of one entry. Invariants: a decoded entry's payload lies inside the
// input and re-encodes to exactly the input; whatever is encoded decodes back.
#include <cstdint>
#include <string>
#include <string_view>

#include "entry.h"
#include "fuzz_check.h"
#include "volley/v1/node.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace volley::cluster;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto d = DecodeEntry(in);
  if (d) {
    FUZZ_CHECK(d->payload.data() >= in.data() &&
               d->payload.data() + d->payload.size() <= in.data() + in.size());
    FUZZ_CHECK(EncodeEntry(d->type, d->payload) == in);
    // The payload parsers the state machine runs next must not crash either.
    volley::v1::CoordinatorEntry c;
    c.ParseFromArray(d->payload.data(), static_cast<int>(d->payload.size()));
    volley::v1::MembersEntry m;
    m.ParseFromArray(d->payload.data(), static_cast<int>(d->payload.size()));
  }
  const std::string framed = EncodeEntry(static_cast<uint16_t>(size), in);
  FUZZ_CHECK(framed.size() % 8 == 0);
  auto back = DecodeEntry(framed);
  FUZZ_CHECK(back && back->payload == in && back->type == static_cast<uint16_t>(size));
  return 0;
}
