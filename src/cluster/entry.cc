#include "entry.h"

#include <cstring>

namespace volley::cluster {
namespace {

void PutLe(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetLe(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= uint64_t{static_cast<unsigned char>(in[at + i])} << (8 * i);
  }
  return v;
}

size_t Padded(size_t n) { return (n + 7) & ~size_t{7}; }

}  // namespace

std::string EncodeEntry(uint16_t type, std::string_view payload) {
  std::string out;
  out.reserve(Padded(kEntryHeaderSize + payload.size()));
  PutLe(out, kEntryMagic, 4);
  PutLe(out, type, 2);
  PutLe(out, kEntryVersion, 2);
  PutLe(out, payload.size(), 8);
  out.append(payload);
  out.resize(Padded(out.size()), '\0');
  return out;
}

Result<DecodedEntry> DecodeEntry(std::string_view bytes) {
  auto bad = [&](const std::string& why) {
    return MakeError(ErrorCode::kProtocol,
                     "log entry of " + std::to_string(bytes.size()) + " bytes: " + why);
  };
  if (bytes.size() < kEntryHeaderSize) return bad("shorter than the 16-byte header");
  if (bytes.size() % 8 != 0) return bad("length is not a multiple of 8");
  if (GetLe(bytes, 0, 4) != kEntryMagic) return bad("bad magic (not a volley entry)");
  const uint64_t version = GetLe(bytes, 6, 2);
  if (version != kEntryVersion) {
    return bad("framing version " + std::to_string(version) + ", this build reads " +
               std::to_string(kEntryVersion));
  }
  const uint64_t length = GetLe(bytes, 8, 8);
  if (length > kMaxEntryPayload || length > bytes.size() - kEntryHeaderSize) {
    return bad("payload length " + std::to_string(length) + " exceeds the entry");
  }
  if (Padded(kEntryHeaderSize + length) != bytes.size()) {
    return bad("payload length " + std::to_string(length) + " does not match the padding");
  }
  for (size_t i = kEntryHeaderSize + length; i < bytes.size(); ++i) {
    if (bytes[i] != '\0') return bad("non-zero padding");
  }
  DecodedEntry out;
  out.type = static_cast<uint16_t>(GetLe(bytes, 4, 2));
  out.payload = bytes.substr(kEntryHeaderSize, length);
  return out;
}

}  // namespace volley::cluster
