#include "membership.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace volley::cluster {

const char* MembershipName(Membership m) {
  switch (m) {
    case Membership::kVoter:
      return "voter";
    case Membership::kStandby:
      return "standby";
    case Membership::kSpare:
      return "spare";
  }
  return "spare";
}

Result<std::string> NormalizeAddress(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  auto bad = [&](const std::string& why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "node address '" + std::string(text) + "': " + why +
                         "; use host:port like 10.1.0.5:7000 or [::1]:7000");
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad("no host:port");
  std::string host(text.substr(0, colon));
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() ||
      port == 0 || port > 65535) {
    return bad("port '" + std::string(port_text) + "' is not a number in 1-65535");
  }
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (host == "localhost") host = "127.0.0.1";
  if (host.front() != '[' && host.find(':') != std::string::npos) host = "[" + host + "]";
  if (host.front() == '[' && (host.size() < 3 || host.back() != ']')) return bad("unbalanced '['");
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
          c == '[' || c == ']' || c == '_')) {
      return bad("the host has a character that is not allowed");
    }
  }
  return host + ":" + std::to_string(port);
}

uint64_t RaftIdFor(std::string_view normalized_address) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : normalized_address) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h == 0 ? 1 : h;
}

Result<std::vector<MemberSpec>> InitialConfiguration(const std::vector<std::string>& nodes,
                                                     size_t voters) {
  std::vector<std::string> addresses;
  std::string problems;
  for (const auto& n : nodes) {
    auto a = NormalizeAddress(n);
    if (!a) {
      problems += (problems.empty() ? "" : "\n") + a.error().message;
      continue;
    }
    addresses.push_back(*a);
  }
  if (!problems.empty()) return MakeError(ErrorCode::kInvalidArgument, problems);
  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  std::vector<MemberSpec> out;
  for (size_t i = 0; i < addresses.size(); ++i) {
    MemberSpec m;
    m.address = addresses[i];
    m.raft_id = RaftIdFor(m.address);
    m.membership = i < voters ? Membership::kVoter : Membership::kStandby;
    for (const auto& o : out) {
      if (o.raft_id == m.raft_id) {
        return MakeError(ErrorCode::kInvalidArgument, "node addresses '" + o.address + "' and '" +
                                                          m.address + "' hash to the same Raft id");
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<MembershipChange> NextMembershipChange(const std::vector<MemberView>& members,
                                                     uint64_t self, size_t target_voters,
                                                     std::chrono::milliseconds promote_after,
                                                     std::chrono::milliseconds in_office_for) {
  auto silence = [&](const MemberView& m) {
    if (m.raft_id == self) return std::chrono::milliseconds(0);
    return m.silent_for.value_or(in_office_for);
  };
  auto live = [&](const MemberView& m) { return silence(m) <= promote_after; };
  const MemberView* best_standby = nullptr;
  size_t voters = 0;
  for (const auto& m : members) {
    if (m.membership == Membership::kVoter) ++voters;
    if (m.membership != Membership::kStandby || !live(m)) continue;
    if (best_standby == nullptr || silence(m) < silence(*best_standby) ||
        (silence(m) == silence(*best_standby) && m.raft_id < best_standby->raft_id)) {
      best_standby = &m;
    }
  }
  if (best_standby == nullptr) return std::nullopt;
  for (const auto& m : members) {
    if (m.membership == Membership::kVoter && m.raft_id != self && !live(m)) {
      return MembershipChange{MembershipChange::kDemote, m.raft_id,
                              "voter silent for " + std::to_string(silence(m).count()) +
                                  " ms (> promote_after " + std::to_string(promote_after.count()) +
                                  " ms)"};
    }
  }
  if (voters < target_voters) {
    return MembershipChange{
        MembershipChange::kPromote, best_standby->raft_id,
        std::to_string(voters) + " voters of " + std::to_string(target_voters) + " wanted"};
  }
  return std::nullopt;
}

}  // namespace volley::cluster
