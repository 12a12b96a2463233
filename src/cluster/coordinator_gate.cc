#include "coordinator_gate.h"

namespace volley::cluster {

std::optional<uint64_t> CoordinatorGate::Observe(const RaftView& view) {
  last_ = view;
  coordinator_ = Leads(view) && committed_term_ == view.term;
  if (Leads(view) && committed_term_ != view.term && !pending_) {
    pending_ = true;
    return view.term;
  }
  return std::nullopt;
}

void CoordinatorGate::Committed(uint64_t term, const RaftView& now) {
  pending_ = false;
  if (Leads(now) && now.term == term) committed_term_ = term;
  Observe(now);
}

void CoordinatorGate::Failed(uint64_t) { pending_ = false; }

bool CoordinatorGate::FollowerReady(const RaftView& view, uint64_t applied_coord_term,
                                    uint64_t applied_coord_leader) {
  return view.leader != 0 && applied_coord_term == view.term && applied_coord_leader == view.leader;
}

}  // namespace volley::cluster
