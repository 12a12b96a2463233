// Framing of the log entries volley commits through Raft. libraft 0.15 corrupts entries
// whose length is not a multiple of 8 (specs/cluster.md, pitfall 1), so every entry is
//
//   offset 0  u32  magic "VLYE" (little-endian 0x45594C56)
//          4  u16  type (EntryType; Cluster II/III add theirs from kFirstUserType)
//          6  u16  framing version (1)
//          8  u64  payload length (the true length, without padding)
//         16  ...  payload, then zero bytes up to the next multiple of 8
//
// Pure functions, no libraft: thread-safe, fuzzed (fuzz/cluster_entry_fuzz.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "volley/common/result.h"

namespace volley::cluster {

enum EntryType : uint16_t {
  kEntryCoordinator = 1,  // CoordinatorEntry: the leader of a term took office
  kEntryMembers = 2,      // MembersEntry: identities of the members
  kEntryUserState = 3,    // only in snapshots: the user state (ClusterHooks::snapshot)
  kFirstUserType = 256,   // Cluster II/III types start here
};

inline constexpr size_t kEntryHeaderSize = 16;
inline constexpr uint32_t kEntryMagic = 0x45594C56;  // "VLYE"
inline constexpr uint16_t kEntryVersion = 1;
// Larger payloads are refused when encoding and when decoding (Raft's memory is precious).
inline constexpr uint64_t kMaxEntryPayload = 16u << 20;

// The framed bytes of one entry; size() is a multiple of 8.
// REQUIRES: payload.size() <= kMaxEntryPayload.
std::string EncodeEntry(uint16_t type, std::string_view payload);

struct DecodedEntry {
  uint16_t type = 0;
  std::string_view payload;  // borrows the decoded buffer
};

// Checks the magic, version, length (header + payload + padding == size, size % 8 == 0)
// and that the padding is zero. kProtocol naming the first problem otherwise.
Result<DecodedEntry> DecodeEntry(std::string_view bytes);

}  // namespace volley::cluster
