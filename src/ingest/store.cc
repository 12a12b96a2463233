// SQLite storage of the ingest service (schema and merge rules in store.h).
#include "volley/ingest/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "hist_blob.h"
#include "volley/ingest/request.h"

namespace volley::ingest {
namespace {

using metrics::Histogram;
using metrics::MetricType;
using metrics::MetricValue;

constexpr int kSchemaVersion = 2;  // 2: runs.repaired, runs.refused
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS runs(run_id TEXT PRIMARY KEY, created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL, requests INTEGER NOT NULL,
  aggregation_period_s INTEGER NOT NULL, repaired INTEGER NOT NULL DEFAULT 0,
  refused INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS series(series_id INTEGER PRIMARY KEY, run_id TEXT NOT NULL,
  metric TEXT NOT NULL, labels TEXT NOT NULL, type INTEGER NOT NULL, resolution REAL,
  UNIQUE(run_id, metric, labels));
CREATE TABLE IF NOT EXISTS points(series_id INTEGER NOT NULL, time_s INTEGER NOT NULL,
  last REAL, min REAL, max REAL, sum REAL, count INTEGER, nonzero INTEGER, buckets BLOB,
  PRIMARY KEY(series_id, time_s)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency_keys(run_id TEXT NOT NULL, key TEXT NOT NULL,
  received_ms INTEGER NOT NULL, PRIMARY KEY(run_id, key)) WITHOUT ROWID;
)sql";

Error DbError(sqlite3* db, const std::string& what) {
  return Error{ErrorCode::kIo, "ingest store: " + what + ": " + sqlite3_errmsg(db)};
}

// A prepared statement, finalized on destruction. Bind indexes start at 1, columns at 0.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  Stmt& Text(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Int(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& Real(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Stmt& Blob(int i, const std::string& b) {
    sqlite3_bind_blob(stmt_, i, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Null(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return stmt_ == nullptr ? SQLITE_ERROR : sqlite3_step(stmt_); }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  bool IsNull(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  int64_t ColInt(int c) const { return sqlite3_column_int64(stmt_, c); }
  double ColReal(int c) const { return sqlite3_column_double(stmt_, c); }
  std::string ColText(int c) const {
    const auto* p = sqlite3_column_text(stmt_, c);
    return p == nullptr ? ""
                        : std::string(reinterpret_cast<const char*>(p),
                                      static_cast<size_t>(sqlite3_column_bytes(stmt_, c)));
  }
  std::string_view ColBlob(int c) const {
    const void* p = sqlite3_column_blob(stmt_, c);
    return p == nullptr ? std::string_view()
                        : std::string_view(static_cast<const char*>(p),
                                           static_cast<size_t>(sqlite3_column_bytes(stmt_, c)));
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

Result<void> Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    return MakeError(ErrorCode::kIo, std::string("ingest store: ") + msg);
  }
  return {};
}

std::string LabelsJson(const metrics::Labels& labels) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : labels) j[k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

metrics::Labels ParseLabels(const std::string& text) {
  metrics::Labels labels;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return labels;
  for (const auto& [k, v] : j.items())
    labels.emplace_back(k, v.is_string() ? v.get<std::string>() : "");
  return labels;
}

double OrInf(const Stmt& s, int c, double inf) { return s.IsNull(c) ? inf : s.ColReal(c); }

// Columns of a points row starting at `c`: last, min, max, sum, count, nonzero, buckets.
std::optional<MetricValue> ReadValue(const Stmt& s, int c, MetricType type, double resolution) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  switch (type) {
    case MetricType::kCounter:
      return metrics::Counter{s.ColReal(c + 3)};
    case MetricType::kGauge:
      return metrics::Gauge{s.ColReal(c), OrInf(s, c + 1, kInf), OrInf(s, c + 2, -kInf),
                            s.ColReal(c + 3), static_cast<uint64_t>(s.ColInt(c + 4))};
    case MetricType::kRate:
      return metrics::Rate{static_cast<uint64_t>(s.ColInt(c + 5)),
                           static_cast<uint64_t>(s.ColInt(c + 4))};
    case MetricType::kTrend: {
      Histogram h(resolution > 0 ? resolution : 1e-6);
      if (!DecodeHistogramBlob(s.ColBlob(c + 6), resolution, s.ColReal(c + 1), s.ColReal(c + 2),
                               s.ColReal(c + 3), &h)) {
        return std::nullopt;
      }
      return h;
    }
  }
  return std::nullopt;
}

// Binds a value to parameters `p`.. of the points upsert: last, min, max, sum, count,
// nonzero, buckets.
void BindValue(Stmt& s, int p, const MetricValue& value) {
  for (int i = 0; i < 7; ++i) s.Null(p + i);
  if (const auto* c = std::get_if<metrics::Counter>(&value)) {
    s.Real(p + 3, c->value);
  } else if (const auto* g = std::get_if<metrics::Gauge>(&value)) {
    s.Real(p, g->last).Real(p + 3, g->sum).Int(p + 4, static_cast<int64_t>(g->count));
    if (g->count > 0) s.Real(p + 1, g->min).Real(p + 2, g->max);
  } else if (const auto* r = std::get_if<metrics::Rate>(&value)) {
    s.Int(p + 4, static_cast<int64_t>(r->total)).Int(p + 5, static_cast<int64_t>(r->nonzero));
  } else {
    const auto& h = std::get<Histogram>(value);
    s.Real(p + 1, h.min()).Real(p + 2, h.max()).Real(p + 3, h.sum());
    s.Int(p + 4, static_cast<int64_t>(h.count())).Blob(p + 6, EncodeHistogramBlob(h));
  }
}

double ResolutionOf(const wire::k6::SeriesSamples& s) {
  for (const auto& v : s.values) {
    if (const auto* h = std::get_if<Histogram>(&v.value)) return h->min_resolution();
  }
  return 0;
}

}  // namespace

Store::Store(sqlite3* db) : db_(db) {}
Store::~Store() { sqlite3_close(db_); }

Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<Store> store(new Store(db));  // closes db on every error path
  if (rc != SQLITE_OK) {
    return MakeError(ErrorCode::kIo, "--db " + path + ": cannot open: " +
                                         (db != nullptr ? sqlite3_errmsg(db) : "out of memory"));
  }
  sqlite3_busy_timeout(db, 5000);
  int64_t v = 0;
  {
    Stmt version(db, "PRAGMA user_version");
    if (version.Step() != SQLITE_ROW) {
      return MakeError(ErrorCode::kIo,
                       "--db " + path + ": not an SQLite database (" + sqlite3_errmsg(db) + ")");
    }
    v = version.ColInt(0);
  }
  if (v == 1) {  // version 1 had no repaired/refused counts: add them
    for (const char* sql : {"ALTER TABLE runs ADD COLUMN repaired INTEGER NOT NULL DEFAULT 0",
                            "ALTER TABLE runs ADD COLUMN refused INTEGER NOT NULL DEFAULT 0"}) {
      if (auto r = Exec(db, sql); !r) {
        return MakeError(ErrorCode::kIo,
                         "--db " + path + ": upgrading the schema: " + r.error().message);
      }
    }
    v = kSchemaVersion;
  }
  if (v != 0 && v != kSchemaVersion) {
    return MakeError(ErrorCode::kIo, "--db " + path + ": schema version " + std::to_string(v) +
                                         " is not this volley's (" +
                                         std::to_string(kSchemaVersion) + "); use another file");
  }
  for (const char* sql :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", kSchema, "PRAGMA user_version=2"}) {
    if (auto r = Exec(db, sql); !r) {
      return MakeError(ErrorCode::kIo, "--db " + path + ": " + r.error().message);
    }
  }
  return store;
}

Result<WriteResult> Store::Write(std::string_view run, const wire::k6::MetricSetData& batch,
                                 std::string_view idempotency_key, int64_t now_ms,
                                 BatchRepairs repairs) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto r = Exec(db_, "BEGIN IMMEDIATE"); !r) return tl::unexpected(r.error());
  struct Rollback {
    sqlite3* db;
    bool done = false;
    ~Rollback() {
      if (!done) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  } rollback{db_};

  WriteResult result;
  if (!idempotency_key.empty()) {
    Stmt seen(db_, "SELECT 1 FROM idempotency_keys WHERE run_id=?1 AND key=?2");
    seen.Text(1, run).Text(2, idempotency_key);
    const int rc = seen.Step();
    if (rc == SQLITE_ROW) {
      result.duplicate = true;
      return result;  // rolls back the empty transaction
    }
    if (rc != SQLITE_DONE) return tl::unexpected(DbError(db_, "idempotency lookup"));
    Stmt add(db_, "INSERT INTO idempotency_keys(run_id, key, received_ms) VALUES(?1, ?2, ?3)");
    if (add.Text(1, run).Text(2, idempotency_key).Int(3, now_ms).Step() != SQLITE_DONE) {
      return tl::unexpected(DbError(db_, "recording the idempotency key"));
    }
  }
  Stmt upsert_run(
      db_,
      "INSERT INTO runs(run_id, created_ms, updated_ms, requests, aggregation_period_s, "
      "repaired, refused) VALUES(?1, ?2, ?2, 1, ?3, ?4, ?5) ON CONFLICT(run_id) DO "
      "UPDATE SET updated_ms=?2, requests=requests+1, aggregation_period_s=?3, "
      "repaired=repaired+?4, refused=refused+?5");
  upsert_run.Text(1, run).Int(2, now_ms).Int(3, batch.aggregation_period_seconds);
  upsert_run.Int(4, static_cast<int64_t>(repairs.repaired_values))
      .Int(5, static_cast<int64_t>(repairs.refused_series));
  if (upsert_run.Step() != SQLITE_DONE) return tl::unexpected(DbError(db_, "updating the run"));

  Stmt type_of(db_, "SELECT type FROM series WHERE run_id=?1 AND metric=?2 LIMIT 1");
  Stmt find(db_,
            "SELECT series_id, resolution FROM series WHERE run_id=?1 AND metric=?2 AND labels=?3");
  Stmt insert(db_,
              "INSERT INTO series(run_id, metric, labels, type, resolution) "
              "VALUES(?1, ?2, ?3, ?4, ?5)");
  Stmt get(db_,
           "SELECT last, min, max, sum, count, nonzero, buckets FROM points "
           "WHERE series_id=?1 AND time_s=?2");
  Stmt put(db_,
           "INSERT OR REPLACE INTO points(series_id, time_s, last, min, max, sum, count, "
           "nonzero, buckets) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  for (const Stmt* s : {&type_of, &find, &insert, &get, &put}) {
    if (!s->ok()) return tl::unexpected(DbError(db_, "preparing a statement"));
  }
  for (const wire::k6::SeriesSamples& s : batch.series) {
    if (s.values.empty()) continue;  // nothing to store, and a trend's resolution unknown
    const std::string labels = LabelsJson(s.labels);
    const auto type = static_cast<int64_t>(s.type);
    type_of.Reset();
    if (type_of.Text(1, run).Text(2, s.metric).Step() == SQLITE_ROW && type_of.ColInt(0) != type) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "metric \"" + s.metric + "\" is stored as a " +
                           metrics::MetricTypeName(static_cast<MetricType>(type_of.ColInt(0))) +
                           " in run " + std::string(run) + ", not a " +
                           metrics::MetricTypeName(s.type));
    }
    find.Reset();
    int64_t id = 0;
    double resolution = ResolutionOf(s);
    if (find.Text(1, run).Text(2, s.metric).Text(3, labels).Step() == SQLITE_ROW) {
      id = find.ColInt(0);
      if (s.type == MetricType::kTrend && resolution != 0 && find.ColReal(1) != resolution) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "trend \"" + s.metric + "\" is stored with histogram resolution " +
                             std::to_string(find.ColReal(1)) + ", not " +
                             std::to_string(resolution));
      }
      resolution = find.ColReal(1);
    } else {
      insert.Reset();
      insert.Text(1, run).Text(2, s.metric).Text(3, labels).Int(4, type);
      if (s.type == MetricType::kTrend) insert.Real(5, resolution);
      if (insert.Step() != SQLITE_DONE) return tl::unexpected(DbError(db_, "adding a series"));
      id = sqlite3_last_insert_rowid(db_);
    }
    ++result.series;
    for (const wire::k6::BucketValue& v : s.values) {
      ++result.values;
      MetricValue value = v.value;
      get.Reset();
      const int rc = get.Int(1, id).Int(2, v.time_unix_seconds).Step();
      if (rc == SQLITE_ROW) {
        auto stored = ReadValue(get, 0, s.type, resolution);
        if (!stored)
          return MakeError(ErrorCode::kIo, "ingest store: a stored histogram is damaged");
        if (!MergeValue(*stored, value)) {
          return MakeError(ErrorCode::kInvalidArgument, "\"" + s.metric + "\" cannot be merged");
        }
        value = std::move(*stored);
        ++result.merged;
      } else if (rc != SQLITE_DONE) {
        return tl::unexpected(DbError(db_, "reading a point"));
      }
      put.Reset();
      put.Int(1, id).Int(2, v.time_unix_seconds);
      BindValue(put, 3, value);
      if (put.Step() != SQLITE_DONE) return tl::unexpected(DbError(db_, "writing a point"));
    }
  }
  if (auto r = Exec(db_, "COMMIT"); !r) return tl::unexpected(r.error());
  rollback.done = true;
  return result;
}

Result<std::vector<RunInfo>> Store::Runs() {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt s(db_,
         "SELECT r.run_id, created_ms, updated_ms, requests, aggregation_period_s, "
         "(SELECT COUNT(*) FROM series WHERE run_id=r.run_id), "
         "(SELECT COUNT(*) FROM points p JOIN series x USING(series_id) WHERE x.run_id=r.run_id), "
         "repaired, refused "
         "FROM runs r ORDER BY updated_ms DESC, r.run_id");
  std::vector<RunInfo> runs;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    runs.push_back(RunInfo{s.ColText(0), s.ColInt(1), s.ColInt(2),
                           static_cast<uint64_t>(s.ColInt(3)), static_cast<uint32_t>(s.ColInt(4)),
                           static_cast<uint64_t>(s.ColInt(5)), static_cast<uint64_t>(s.ColInt(6)),
                           static_cast<uint64_t>(s.ColInt(7)), static_cast<uint64_t>(s.ColInt(8))});
  }
  if (rc != SQLITE_DONE) return tl::unexpected(DbError(db_, "listing runs"));
  return runs;
}

Result<std::vector<wire::k6::SeriesSamples>> Store::Series(std::string_view run,
                                                           std::string_view metric) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt known(db_, "SELECT 1 FROM runs WHERE run_id=?1");
  if (known.Text(1, run).Step() != SQLITE_ROW) {
    return MakeError(ErrorCode::kNotFound, "run \"" + std::string(run) + "\" is not stored");
  }
  Stmt s(db_,
         "SELECT s.series_id, metric, labels, type, resolution, time_s, last, min, max, sum, "
         "count, nonzero, buckets FROM series s LEFT JOIN points p USING(series_id) "
         "WHERE run_id=?1 AND (?2 = '' OR metric=?2) ORDER BY s.series_id, time_s");
  s.Text(1, run).Text(2, metric);
  std::vector<wire::k6::SeriesSamples> out;
  int64_t current = -1;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    const auto type = static_cast<MetricType>(std::clamp<int64_t>(s.ColInt(3), 0, 3));
    if (s.ColInt(0) != current) {
      current = s.ColInt(0);
      out.push_back({s.ColText(1), type, ParseLabels(s.ColText(2)), {}});
    }
    if (s.IsNull(5)) continue;  // a series without points
    auto value = ReadValue(s, 6, type, s.ColReal(4));
    if (!value) return MakeError(ErrorCode::kIo, "ingest store: a stored histogram is damaged");
    out.back().values.push_back({s.ColInt(5), std::move(*value)});
  }
  if (rc != SQLITE_DONE) return tl::unexpected(DbError(db_, "reading series"));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.metric, a.labels) < std::tie(b.metric, b.labels);
  });
  return out;
}

Result<std::vector<SeriesTotal>> Store::Summary(std::string_view run) {
  auto series = Series(run, "");
  if (!series) return tl::unexpected(series.error());
  std::vector<SeriesTotal> out;
  for (auto& s : *series) {
    SeriesTotal t{s.metric, s.type, std::move(s.labels), {}, s.values.size(), 0, 0};
    if (s.values.empty()) continue;  // Write never stores a series without values
    t.first_time_s = s.values.front().time_unix_seconds;
    t.last_time_s = s.values.back().time_unix_seconds;
    t.total = std::move(s.values.front().value);
    for (size_t i = 1; i < s.values.size(); ++i) MergeValue(t.total, s.values[i].value);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace volley::ingest
