#include "scenario/data_feeder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

namespace volley::engine::scenario {
namespace {

using Strategy = config::DataFile::Strategy;

DataTable Numbered(size_t n) {
  DataTable t;
  t.columns = {"id", "name"};
  for (size_t i = 0; i < n; ++i) t.rows.push_back({std::to_string(i), "user" + std::to_string(i)});
  return t;
}

TEST(DataFeederTest, SequentialEachRowOnceThenExhausted) {
  DataFeeder feeder(Numbered(3), Strategy::kSequential);
  std::mt19937_64 rng(1);
  EXPECT_EQ(feeder.Next(rng), std::optional<size_t>(0));
  EXPECT_EQ(feeder.Next(rng), std::optional<size_t>(1));
  EXPECT_EQ(feeder.Next(rng), std::optional<size_t>(2));
  EXPECT_FALSE(feeder.exhausted());
  EXPECT_EQ(feeder.Next(rng), std::nullopt);
  EXPECT_EQ(feeder.Next(rng), std::nullopt);
  EXPECT_TRUE(feeder.exhausted());
}

TEST(DataFeederTest, CycleWraps) {
  DataFeeder feeder(Numbered(3), Strategy::kCycle);
  std::mt19937_64 rng(1);
  std::vector<size_t> got;
  for (int i = 0; i < 7; ++i) got.push_back(*feeder.Next(rng));
  EXPECT_EQ(got, (std::vector<size_t>{0, 1, 2, 0, 1, 2, 0}));
  EXPECT_FALSE(feeder.exhausted());
}

TEST(DataFeederTest, RandomIsUniform) {
  constexpr size_t kRows = 10;
  constexpr int kN = 100000;
  DataFeeder feeder(Numbered(kRows), Strategy::kRandom);
  std::mt19937_64 rng(2024);
  std::vector<int> counts(kRows, 0);
  for (int i = 0; i < kN; ++i) ++counts[*feeder.Next(rng)];
  const double p = 1.0 / kRows;
  const double sigma = std::sqrt(kN * p * (1 - p));
  for (size_t r = 0; r < kRows; ++r) EXPECT_NEAR(counts[r], kN * p, 5 * sigma) << "row " << r;
}

TEST(DataFeederTest, SequentialAcrossFourThreadsHandsOutEveryRowOnce) {
  constexpr size_t kRows = 20000;
  DataFeeder feeder(Numbered(kRows), Strategy::kSequential);
  std::vector<std::vector<size_t>> taken(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(static_cast<uint64_t>(t));
      while (auto row = feeder.Next(rng)) taken[static_cast<size_t>(t)].push_back(*row);
    });
  }
  for (auto& th : threads) th.join();
  std::vector<int> seen(kRows, 0);
  size_t total = 0;
  for (const auto& list : taken) {
    total += list.size();
    for (size_t i = 1; i < list.size(); ++i) EXPECT_LT(list[i - 1], list[i]);  // in order
    for (size_t r : list) ++seen[r];
  }
  EXPECT_EQ(total, kRows);
  for (size_t r = 0; r < kRows; ++r) ASSERT_EQ(seen[r], 1) << "row " << r;
  EXPECT_TRUE(feeder.exhausted());
}

TEST(DataFeederTest, BindsColumnsToVariables) {
  DataFeeder feeder(Numbered(2), Strategy::kSequential);
  VariableTable table;
  table.Intern("other");
  std::vector<VarId> ids = feeder.BindColumns(table);
  EXPECT_EQ(ids, (std::vector<VarId>{1, 2}));
  Variables vars(&table);
  feeder.Assign(1, ids, &vars);
  EXPECT_EQ(*vars.Get("id"), "1");
  EXPECT_EQ(*vars.Get("name"), "user1");
  EXPECT_EQ(vars.Get("other"), nullptr);
}

}  // namespace
}  // namespace volley::engine::scenario
