// The ingest service's storage: runs, series and their time-bucketed values in one SQLite
// file, merged exactly on write (histograms are stored bucket by bucket, so a summary
// merges them with no loss).
//
// Schema (created if absent; `PRAGMA user_version` = 1):
//   runs(run_id TEXT PRIMARY KEY, created_ms INTEGER, updated_ms INTEGER,
//        requests INTEGER,               -- accepted pushes (duplicates excluded)
//        aggregation_period_s INTEGER)   -- as last pushed
//   series(series_id INTEGER PRIMARY KEY, run_id TEXT, metric TEXT,
//          labels TEXT,                  -- canonical JSON object, keys sorted
//          type INTEGER,                 -- 0 counter, 1 gauge, 2 rate, 3 trend
//          resolution REAL,              -- trends: histogram min_resolution; else NULL
//          UNIQUE(run_id, metric, labels))
//   points(series_id INTEGER, time_s INTEGER,   -- bucket start, unix seconds
//          last REAL, min REAL, max REAL, sum REAL, count INTEGER, nonzero INTEGER,
//          buckets BLOB, PRIMARY KEY(series_id, time_s)) WITHOUT ROWID
//     counter: sum = value. gauge: last, min, max, sum, count (min/max are NULL while
//     count is 0). rate: nonzero, count = total. trend: count, min, max, sum, buckets.
//     `buckets` (trends only): varint-encoded (LEB128, unsigned): extra_low, extra_high,
//     the number n of non-empty buckets, then n pairs (index - previous index, count),
//     the first index taken from 0: a few bytes per non-empty bucket.
//   idempotency_keys(run_id TEXT, key TEXT, received_ms INTEGER,
//                    PRIMARY KEY(run_id, key)) WITHOUT ROWID
//
// Merging on write: a value for a (series, time) already stored is merged into it
// (ingest::MergeValue: counters and rates add, histograms merge, gauges combine min, max,
// sum and count and take the new last), because k6 re-sends a bucket that got late
// samples with only those samples. A retried request is recognised by its idempotency
// key instead (Write with a key already seen for the run changes nothing), so it is
// never counted twice.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "volley/common/result.h"
#include "volley/wire/k6_metrics.h"

struct sqlite3;

namespace volley::ingest {

struct RunInfo {
  std::string id;
  int64_t created_ms = 0;  // unix milliseconds of the first accepted push
  int64_t updated_ms = 0;  // of the last
  uint64_t requests = 0;   // accepted pushes, duplicates excluded
  uint32_t aggregation_period_s = 0;
  uint64_t series = 0;
  uint64_t points = 0;    // stored (series, time) values
  uint64_t repaired = 0;  // values repaired on the way in (k6's swapped gauge min/max)
  uint64_t refused = 0;   // series refused on the way in (the rest of their batch stored)
};

// What decoding a batch repaired or refused, added to the run's figures by Write().
struct BatchRepairs {
  uint64_t repaired_values = 0;
  uint64_t refused_series = 0;
};

struct WriteResult {
  bool duplicate = false;  // the idempotency key was seen before: nothing was written
  uint64_t series = 0;     // series in the batch
  uint64_t values = 0;     // (series, time) values in the batch
  uint64_t merged = 0;     // of those, merged into a value already stored
};

// One series with every stored value merged over time (in time order, so a gauge's last
// is that of its latest bucket).
struct SeriesTotal {
  std::string metric;
  metrics::MetricType type = metrics::MetricType::kCounter;
  metrics::Labels labels;
  metrics::MetricValue total;
  uint64_t points = 0;
  int64_t first_time_s = 0;
  int64_t last_time_s = 0;
};

// Thread-safe: one mutex serialises every call (SQLite work is short; the HTTP threads
// decode and validate bodies outside it).
class Store {
 public:
  // Opens or creates the database file and its schema. Errors (kIo): the file cannot be
  // opened or is not a volley ingest database (the message names the path).
  static Result<std::unique_ptr<Store>> Open(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Stores one validated, normalized batch (ingest::Normalize output) for `run`, all or
  // nothing, in one transaction. With a non-empty `idempotency_key` already recorded for
  // the run, nothing changes and the result says duplicate; otherwise the key is recorded
  // with the data. Errors: kInvalidArgument when the batch conflicts with what is stored
  // (a metric stored with another type, a trend with another resolution: the message
  // names it; nothing is written); kIo for SQLite failures (rolled back). `repairs` is
  // added to the run's repaired/refused figures (not for a duplicate).
  Result<WriteResult> Write(std::string_view run, const wire::k6::MetricSetData& batch,
                            std::string_view idempotency_key, int64_t now_ms,
                            BatchRepairs repairs = {});

  // Every run, newest update first.
  Result<std::vector<RunInfo>> Runs();
  // Per series of the run, sorted by (metric, labels). kNotFound for an unknown run.
  Result<std::vector<SeriesTotal>> Summary(std::string_view run);
  // The stored values of the run's series (of one metric if `metric` is not empty),
  // sorted by (metric, labels), values by time. kNotFound for an unknown run.
  Result<std::vector<wire::k6::SeriesSamples>> Series(std::string_view run,
                                                      std::string_view metric);

 private:
  explicit Store(sqlite3* db);

  std::mutex mu_;
  sqlite3* db_;  // guarded by mu_; owned
};

}  // namespace volley::ingest
