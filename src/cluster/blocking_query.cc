#include "blocking_query.h"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace volley::cluster {

BlockingQuery::BlockingQuery(const Clock& clock, Nanos min_interval, Nanos max_backoff)
    : clock_(clock), min_interval_(min_interval), max_backoff_(max_backoff) {}

Nanos BlockingQuery::Delay() const {
  if (!last_sent_) return Nanos(0);
  Nanos gap = min_interval_;
  if (failures_ > 0) {
    for (int i = 0; i < failures_ && gap < max_backoff_; ++i) gap *= 2;
    gap = std::min(gap, max_backoff_);
  }
  const Nanos due = *last_sent_ + gap;
  const Nanos now = clock_.Now();
  return due > now ? due - now : Nanos(0);
}

void BlockingQuery::Sent() { last_sent_ = clock_.Now(); }

bool BlockingQuery::Answered(std::optional<uint64_t> header_index) {
  failures_ = 0;
  const uint64_t before = index_;
  if (!header_index || *header_index < 1) {
    index_ = 0;  // never block with an index below 1
  } else if (*header_index < index_) {
    index_ = 0;  // went backwards: read afresh
  } else {
    index_ = *header_index;
  }
  return index_ != before || index_ == 0;
}

void BlockingQuery::Failed() {
  ++failures_;
  index_ = 0;  // after an outage, read afresh: the index may have restarted
}

std::optional<uint64_t> ParseConsulIndex(std::string_view header) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(header.data(), header.data() + header.size(), v);
  if (header.empty() || ec != std::errc() || ptr != header.data() + header.size()) {
    return std::nullopt;
  }
  return v;
}

}  // namespace volley::cluster
