#include "scenario/data_feeder.h"

namespace volley::engine::scenario {

DataFeeder::DataFeeder(DataTable table, config::DataFile::Strategy strategy)
    : table_(std::move(table)), strategy_(strategy) {}

std::optional<size_t> DataFeeder::Next(std::mt19937_64& rng) {
  const size_t n = table_.rows.size();
  if (strategy_ == config::DataFile::Strategy::kSequential) {
    // Counted even when there are no rows, so that exhausted() tells.
    const uint64_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= n) return std::nullopt;
    return static_cast<size_t>(i);
  }
  if (n == 0) return std::nullopt;
  if (strategy_ == config::DataFile::Strategy::kCycle) {
    return static_cast<size_t>(next_.fetch_add(1, std::memory_order_relaxed) % n);
  }
  return static_cast<size_t>(std::uniform_int_distribution<uint64_t>(0, n - 1)(rng));
}

std::vector<VarId> DataFeeder::BindColumns(VariableTable& table) const {
  std::vector<VarId> ids;
  ids.reserve(table_.columns.size());
  for (const std::string& column : table_.columns) ids.push_back(table.Intern(column));
  return ids;
}

void DataFeeder::Assign(size_t row, const std::vector<VarId>& column_ids, Variables* vars) const {
  const std::vector<std::string>& values = table_.rows[row];
  for (size_t c = 0; c < values.size() && c < column_ids.size(); ++c) {
    vars->Set(column_ids[c], values[c]);
  }
}

bool DataFeeder::exhausted() const {
  return strategy_ == config::DataFile::Strategy::kSequential &&
         next_.load(std::memory_order_relaxed) > table_.rows.size();
}

}  // namespace volley::engine::scenario
