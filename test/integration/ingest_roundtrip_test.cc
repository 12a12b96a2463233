// volley's cloud output against volley's own ingest service, both as real processes on
// 127.0.0.1: what the ingest stored equals the run's own final report (counts exactly,
// percentiles from the same merged histograms).

#include "cli_harness.h"
#include "fakes/raw_http.h"

namespace volley {
namespace {

using namespace volley::testing;  // NOLINT: the harness of this test file

struct Ingest {
  std::unique_ptr<Subprocess> proc;
  int port = 0;
};

::testing::AssertionResult StartIngest(const std::string& db, Ingest* in) {
  std::string error;
  in->proc = Subprocess::Spawn(Argv({"ingest", "--listen", "127.0.0.1:0", "--db", db}), CleanEnv(),
                               &error);
  if (!in->proc) return ::testing::AssertionFailure() << error;
  static const std::regex kListening(R"(listening on 127\.0\.0\.1:(\d+))");
  auto up = [](const std::string& text) { return std::regex_search(text, kListening); };
  if (!in->proc->WaitForStderr(up, kQuick)) {
    return ::testing::AssertionFailure() << in->proc->Diagnostics();
  }
  std::smatch m;
  const std::string err = in->proc->Stderr();
  std::regex_search(err, m, kListening);
  in->port = std::stoi(m[1].str());
  return ::testing::AssertionSuccess();
}

// The stored total of the series `metric` with `labels` (a subset), summed over matches.
double StoredTotal(const json& summary, const std::string& metric, const json& labels,
                   const char* field) {
  double total = 0;
  for (const auto& s : summary["series"]) {
    if (s.value("metric", "") != metric) continue;
    bool match = true;
    for (const auto& [k, v] : labels.items()) match = match && s["labels"].value(k, "") == v;
    if (match) total += s.value(field, 0.0);
  }
  return total;
}

TEST(IngestRoundTrip, StoredTotalsEqualTheRunsOwnReport) {
  Target target;
  ASSERT_TRUE(StartTarget({"--threads", "1", "--status-mix", "200:90,503:10"}, &target));
  TempDir dir;
  Ingest ingest;
  ASSERT_TRUE(StartIngest(dir.File("runs.db"), &ingest));
  const std::string url = "http://127.0.0.1:" + std::to_string(ingest.port);
  const std::string summary_path = dir.File("summary.json");
  Outcome run =
      RunVolley({"run", "--url", target.Url(), "-c", "4", "-t", "2", "-n", "3000", "-q",
                 "--metrics-addr", "", "--out", "cloud=" + url, "--summary-export", summary_path});
  ASSERT_TRUE(run.status.Exited(0)) << run.Diagnostics();
  EXPECT_NE(run.out.find("cloud:"), std::string::npos) << run.out;
  const json report = ParseJson(ReadFile(summary_path));
  ASSERT_EQ(report.value("requests_total", 0), 3000);

  fakes::LoopbackClient c(ingest.port);
  auto runs = c.Get("/v1/runs");
  ASSERT_TRUE(runs && runs->status == 200);
  const json listed = ParseJson(runs->body);
  ASSERT_EQ(listed["runs"].size(), 1u) << runs->body;
  const std::string run_id = listed["runs"][0].value("id", "");
  auto got = c.Get(("/v1/runs/" + run_id + "/summary").c_str());
  ASSERT_TRUE(got && got->status == 200);
  const json stored = ParseJson(got->body);

  EXPECT_EQ(StoredTotal(stored, "volley_requests_total", json::object(), "total"), 3000);
  for (const auto& [code, n] : report["status_codes"].items()) {
    EXPECT_EQ(StoredTotal(stored, "volley_requests_status_codes_total", json{{"status_code", code}},
                          "total"),
              n.get<double>())
        << code;
  }
  EXPECT_EQ(StoredTotal(stored, "volley_request_errors_by_category",
                        json{{"category", "server_error"}}, "total"),
            report["errors"].value("server_error", 0.0));
  // The duration histogram: same samples, same buckets, so the same count and percentiles
  // (the report's are in ms, the stored ones in seconds).
  const json* duration = nullptr;
  for (const auto& s : stored["series"]) {
    if (s.value("metric", "") == "volley_request_duration_seconds") duration = &s;
  }
  ASSERT_NE(duration, nullptr) << got->body;
  EXPECT_EQ(duration->value("count", 0), 3000);
  // The report's JSON rounds to whole µs; the store keeps the bucket midpoint, which is a
  // half µs above 256 µs (2 µs buckets). So they agree to within 0.5 µs, and no more.
  const json& ms = report["latency_ms"];
  constexpr double kReportRounding = 0.0005 + 1e-9;  // ms
  for (const char* q : {"p50", "p95", "p99"}) {
    EXPECT_NEAR(duration->value(q, 0.0) * 1000, ms.value(q, -1.0), kReportRounding) << q;
  }
  EXPECT_NEAR(duration->value("max", 0.0) * 1000, ms.value("max", -1.0), kReportRounding);

  ingest.proc->Signal(SIGTERM);
  EXPECT_TRUE(ingest.proc->Wait(kQuick).Exited(0)) << ingest.proc->Diagnostics();
  json stats;
  StopTarget(target, &stats);
  EXPECT_EQ(stats.value("requests", 0), 3000);
}

}  // namespace
}  // namespace volley
