#include "scenario/step_cache.h"

namespace volley::engine::scenario {

bool StepCache::Restore(size_t slot, Nanos now, Variables* vars) const {
  if (slot >= entries_.size()) return false;
  const Entry& e = entries_[slot];
  if (e.expires == Nanos(0) || now >= e.expires) return false;
  for (const auto& [id, value] : e.values) vars->Set(id, value);
  return true;
}

void StepCache::Store(size_t slot, const std::vector<VarId>& ids, const Variables& vars, Nanos now,
                      Nanos ttl) {
  if (slot >= entries_.size()) entries_.resize(slot + 1);
  Entry& e = entries_[slot];
  e.values.clear();
  for (VarId id : ids) {
    if (const std::string* v = vars.Get(id)) e.values.emplace_back(id, *v);
  }
  e.expires = now + ttl;
}

}  // namespace volley::engine::scenario
