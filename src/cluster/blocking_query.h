// The index rules of Consul's blocking queries (specs/integrations.md §1, "Blocking
// queries"), with the clock injected so they are unit-tested without sleeping:
// - the next query carries the X-Consul-Index of the last answer;
// - an index that goes backwards (a Consul restart, a snapshot restore) resets it to 0,
//   so the next query reads afresh instead of waiting on an index that will not come;
// - an index below 1 is never sent as a blocking index (the query does not block);
// - queries are rate-limited (a reply does not guarantee a change: a loop that answers at
//   once must not spin), and failures back off exponentially (Consul away).
// Not thread-safe: one loop owns it.
#pragma once

#include <cstdint>
#include <optional>

#include "volley/common/clock.h"

namespace volley::cluster {

class BlockingQuery {
 public:
  // `clock` must outlive this. Failures wait min_interval·2^k, at most max_backoff.
  BlockingQuery(const Clock& clock, Nanos min_interval, Nanos max_backoff);

  // The `?index=` to send: 0 means "do not block" (send no index).
  uint64_t index() const { return index_; }
  // How long to wait before the next query may go (0: now).
  Nanos Delay() const;
  // Call when a query is sent.
  void Sent();
  // An answer arrived with this X-Consul-Index (nullopt: the header was missing or bad).
  // True when the index moved (or was reset): the contents may have changed.
  bool Answered(std::optional<uint64_t> header_index);
  // The query failed (no answer, or not 200): backs off.
  void Failed();
  int failures() const { return failures_; }

 private:
  const Clock& clock_;
  const Nanos min_interval_;
  const Nanos max_backoff_;
  uint64_t index_ = 0;
  int failures_ = 0;
  std::optional<Nanos> last_sent_;
};

// X-Consul-Index as Consul writes it (a decimal uint64); nullopt for anything else.
std::optional<uint64_t> ParseConsulIndex(std::string_view header);

}  // namespace volley::cluster
