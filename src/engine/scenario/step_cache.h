// The per-user cache of steps' extracted variables (`cache: {ttl}` on a step; engine
// internal): while a step's entry is fresh, the user skips the step and takes the values
// it extracted last time.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "scenario/variables.h"
#include "volley/common/clock.h"

namespace volley::engine::scenario {

// Entries are addressed by slot (CompiledStep::cache_slot: one per cached step of the
// plan). Times are the caller's clock (the worker's loop time), so expiry is exact under a
// fake clock. Thread-safety: none; one cache belongs to one virtual user.
class StepCache {
 public:
  // When slot `slot` holds values stored before `now` that expire after it, sets them
  // into `vars` and returns true (a hit). Otherwise returns false; an expired entry stays
  // until Store replaces it.
  bool Restore(size_t slot, Nanos now, Variables* vars) const;
  // Keeps the current values of `ids` in `vars` (unset ones are skipped) for slot `slot`,
  // fresh until `now + ttl`. REQUIRES: ttl > 0.
  void Store(size_t slot, const std::vector<VarId>& ids, const Variables& vars, Nanos now,
             Nanos ttl);

 private:
  struct Entry {
    Nanos expires{0};  // 0: nothing stored
    std::vector<std::pair<VarId, std::string>> values;
  };
  std::vector<Entry> entries_;  // by slot, grown on first Store
};

}  // namespace volley::engine::scenario
