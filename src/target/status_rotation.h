// Deterministic weighted choice of the status code: smooth weighted round-robin (the
// algorithm of nginx's upstream balancer). With weights 90 and 10 every run of 100 picks
// holds exactly 90 and 10, spread out rather than in blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "volley/target/options.h"

namespace volley::target {

// Confined to one thread (each worker has its own).
class StatusRotation {
 public:
  // An empty mix means always 200. Weights must be > 0 (ValidateTargetOptions checks).
  explicit StatusRotation(const std::vector<StatusWeight>& mix);

  // The index (into the mix, or 0 for the default 200) of the next status.
  size_t Next();

  size_t size() const { return entries_.size(); }
  int code(size_t index) const { return entries_[index].code; }

 private:
  struct Entry {
    int code;
    int64_t weight;
    int64_t current;
  };
  std::vector<Entry> entries_;
  int64_t total_ = 0;
};

}  // namespace volley::target
