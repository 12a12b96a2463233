// Hands out rows of a scenario's data file to the virtual users of every worker thread
// (engine internal).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "scenario/data_file.h"
#include "scenario/variables.h"
#include "volley/config/scenario.h"

namespace volley::engine::scenario {

// Strategies (config::DataFile::Strategy):
//   kSequential: each row exactly once, in order, across all users of all threads; then
//                Next() returns nullopt forever (the user that gets it stops);
//   kCycle:      in order, starting again after the last row;
//   kRandom:     a uniformly random row from the caller's own generator.
// Thread-safe: one feeder is shared by every worker thread. Next() is lock-free (one
// relaxed atomic fetch_add for sequential and cycle; no shared state for random). The
// table is immutable after construction.
class DataFeeder {
 public:
  // `table` must have at least one row for random and cycle; a sequential feeder may have
  // none (a cluster node's part of a file with fewer rows than nodes): it is used up.
  DataFeeder(DataTable table, config::DataFile::Strategy strategy);

  // The index of the next row for a user, or nullopt once a sequential feeder is used up.
  // `rng` is the calling thread's generator (used by kRandom only).
  std::optional<size_t> Next(std::mt19937_64& rng);

  // Interns every column name into `table` (compile time); the result maps column index to
  // variable id, for Assign.
  std::vector<VarId> BindColumns(VariableTable& table) const;
  // Sets each column of row `row` into `vars` under `column_ids[c]` (from BindColumns).
  // Requires row < rows(). Reuses the variables' capacity.
  void Assign(size_t row, const std::vector<VarId>& column_ids, Variables* vars) const;

  const DataTable& table() const { return table_; }
  size_t rows() const { return table_.rows.size(); }
  config::DataFile::Strategy strategy() const { return strategy_; }
  // True once a sequential feeder has handed out every row (and refused at least once).
  bool exhausted() const;

 private:
  // Immutable after construction.
  const DataTable table_;
  const config::DataFile::Strategy strategy_;
  // Rows handed out (or asked for) so far, by sequential and cycle.
  std::atomic<uint64_t> next_{0};
};

}  // namespace volley::engine::scenario
