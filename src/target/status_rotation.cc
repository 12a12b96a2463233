#include "status_rotation.h"

namespace volley::target {

StatusRotation::StatusRotation(const std::vector<StatusWeight>& mix) {
  for (const StatusWeight& sw : mix) {
    entries_.push_back(Entry{sw.code, static_cast<int64_t>(sw.weight), 0});
    total_ += sw.weight;
  }
  if (entries_.empty()) {
    entries_.push_back(Entry{200, 1, 0});
    total_ = 1;
  }
}

size_t StatusRotation::Next() {
  if (entries_.size() == 1) return 0;
  size_t best = 0;
  for (size_t i = 0; i < entries_.size(); ++i) {
    entries_[i].current += entries_[i].weight;
    if (entries_[i].current > entries_[best].current) best = i;
  }
  entries_[best].current -= total_;
  return best;
}

}  // namespace volley::target
