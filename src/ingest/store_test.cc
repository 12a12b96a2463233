#include "volley/ingest/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "hist_blob.h"

namespace volley::ingest {
namespace {

using metrics::Counter;
using metrics::Histogram;
using metrics::MetricType;

TEST(HistogramBlobTest, RoundTripsBucketsAndExtras) {
  std::mt19937_64 rng(3);
  Histogram h(1e-6);
  for (int i = 0; i < 5000; ++i) h.RecordUnits(rng() >> (rng() % 64));
  h.Record(-2);
  h.Record(1e300);
  const std::string blob = EncodeHistogramBlob(h);
  Histogram back(1e-6);
  ASSERT_TRUE(DecodeHistogramBlob(blob, 1e-6, h.min(), h.max(), h.sum(), &back));
  EXPECT_EQ(back.count(), 5002u);
  EXPECT_EQ(back.extra_low(), 1u);
  EXPECT_EQ(back.extra_high(), 1u);
  for (uint32_t i = 0; i <= Histogram::kMaxIndex; ++i)
    ASSERT_EQ(back.BucketCount(i), h.BucketCount(i));
  // Damaged blobs are refused, not trusted.
  EXPECT_FALSE(DecodeHistogramBlob(blob.substr(0, blob.size() - 1), 1e-6, 0, 0, 0, &back));
  EXPECT_FALSE(DecodeHistogramBlob(blob + "x", 1e-6, 0, 0, 0, &back));
  EXPECT_FALSE(
      DecodeHistogramBlob(std::string("\x00\x00\x01\xff\x7f\x01", 6), 1e-6, 0, 0, 0, &back));
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ingest_store_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(StoreTest, MergesAndRefusesConflictsWithoutWriting) {
  auto store = Store::Open(dir_ + "/s.db");
  ASSERT_TRUE(store) << store.error().message;
  wire::k6::MetricSetData d;
  d.series.push_back(
      {"n", MetricType::kCounter, {{"a", "1"}}, {{10, Counter{2}}, {13, Counter{3}}}});
  auto w = (*store)->Write("r", d, "", 5);
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->values, 2u);
  EXPECT_EQ(w->merged, 0u);
  w = (*store)->Write("r", d, "", 6);
  EXPECT_EQ(w->merged, 2u);
  auto sum = (*store)->Summary("r");
  ASSERT_TRUE(sum);
  ASSERT_EQ(sum->size(), 1u);
  EXPECT_EQ(std::get<Counter>((*sum)[0].total).value, 10);
  EXPECT_EQ((*sum)[0].first_time_s, 10);
  EXPECT_EQ((*sum)[0].last_time_s, 13);
  // A conflicting second series aborts the whole batch, the first series included.
  wire::k6::MetricSetData bad;
  bad.series.push_back({"n", MetricType::kCounter, {{"a", "1"}}, {{10, Counter{100}}}});
  bad.series.push_back({"n", MetricType::kGauge, {{"a", "2"}}, {{10, metrics::Gauge{}}}});
  auto r = (*store)->Write("r", bad, "key", 7);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(std::get<Counter>((*(*store)->Summary("r"))[0].total).value, 10);
  // The key of the failed write was rolled back with it: a corrected retry is stored.
  bad.series.pop_back();
  EXPECT_FALSE((*store)->Write("r", bad, "key", 8)->duplicate);
  auto runs = (*store)->Runs();
  ASSERT_TRUE(runs);
  EXPECT_EQ((*runs)[0].requests, 3u);
  EXPECT_EQ((*runs)[0].created_ms, 5);
  EXPECT_EQ((*runs)[0].updated_ms, 8);
  EXPECT_EQ((*store)->Summary("zzz").error().code, ErrorCode::kNotFound);
}

TEST_F(StoreTest, RefusesAFileThatIsNotItsDatabase) {
  const std::string path = dir_ + "/other.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "PRAGMA user_version=7", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto store = Store::Open(path);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("schema version 7"), std::string::npos);
  { std::ofstream(dir_ + "/text.db") << "this is not a database, just text that is long enough"; }
  EXPECT_FALSE(Store::Open(dir_ + "/text.db"));
}

// A file of schema 1 (no repaired/refused counts) is upgraded in place; its runs keep
// their data and start from 0 repaired and refused.
TEST_F(StoreTest, UpgradesASchemaOneFileInPlace) {
  const std::string path = dir_ + "/v1.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE runs(run_id TEXT PRIMARY KEY, created_ms INTEGER NOT NULL, "
                         "updated_ms INTEGER NOT NULL, requests INTEGER NOT NULL, "
                         "aggregation_period_s INTEGER NOT NULL);"
                         "INSERT INTO runs VALUES('old', 1, 2, 3, 1);"
                         "PRAGMA user_version=1;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = Store::Open(path);
  ASSERT_TRUE(store) << store.error().message;
  wire::k6::MetricSetData d;
  d.series.push_back({"n", MetricType::kCounter, {}, {{10, Counter{1}}}});
  ASSERT_TRUE((*store)->Write("old", d, "", 9, BatchRepairs{2, 1}));
  auto runs = (*store)->Runs();
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].requests, 4u);
  EXPECT_EQ((*runs)[0].repaired, 2u);
  EXPECT_EQ((*runs)[0].refused, 1u);
  store->reset();
  auto again = Store::Open(path);  // now schema 2: opens as is
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ((*(*again)->Runs())[0].repaired, 2u);
}

// Concurrent writes (each its own transaction, serialised by the store): one that
// conflicts fails alone and every other one is stored.
TEST_F(StoreTest, ConcurrentWritesCommitTogetherAndFailAlone) {
  auto store = Store::Open(dir_ + "/g.db");
  ASSERT_TRUE(store) << store.error().message;
  wire::k6::MetricSetData first;
  first.series.push_back({"n", MetricType::kCounter, {}, {{10, Counter{1}}}});
  ASSERT_TRUE((*store)->Write("r", first, "", 1));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, refused{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        wire::k6::MetricSetData d;
        if (t == 0 && i == 7) {  // "n" is a counter: a gauge of that name conflicts
          d.series.push_back({"n", MetricType::kGauge, {{"x", "1"}}, {{10, metrics::Gauge{}}}});
        } else {
          d.series.push_back({"n", MetricType::kCounter, {}, {{10, Counter{1}}}});
        }
        auto w = (*store)->Write("r", d, std::to_string(t) + "-" + std::to_string(i), 2);
        (w ? ok : refused)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 319);
  EXPECT_EQ(refused.load(), 1);
  auto sum = (*store)->Summary("r");
  ASSERT_TRUE(sum);
  ASSERT_EQ(sum->size(), 1u);
  EXPECT_EQ(std::get<Counter>((*sum)[0].total).value, 320);
  EXPECT_EQ((*(*store)->Runs())[0].requests, 320u);
}

}  // namespace
}  // namespace volley::ingest
