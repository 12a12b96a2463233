// The subcommands of the volley binary. Each Register* adds its subcommand to the app and
// returns a function that runs it (after parsing) and gives the process exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>

#include "volley/common/result.h"
#include "volley/config/test_plan.h"
#include "volley/engine/engine.h"
#include "volley/metrics/threshold.h"
#include "volley/output/summary.h"

namespace volley::cli {

// Exit codes (README "Exit codes").
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;
inline constexpr int kExitConfig = 2;
inline constexpr int kExitInterrupted = 130;
inline constexpr int kExitThresholds = 99;  // a threshold failed (as k6)

using Runner = std::function<int()>;

Runner RegisterRun(CLI::App& app);
Runner RegisterTarget(CLI::App& app);
Runner RegisterDemo(CLI::App& app);
Runner RegisterValidate(CLI::App& app);
Runner RegisterNode(CLI::App& app);
Runner RegisterIngest(CLI::App& app);
Runner RegisterCluster(CLI::App& app);

// Runs a validated plan: progress on stderr, report on stdout, optional JSON export.
// Shared by `run` and `demo`. Installs the Ctrl-C/SIGTERM handling for its duration.
struct RunOutputOptions {
  bool quiet = false;          // no progress line
  std::string summary_export;  // path, or empty
};
int RunPlan(const config::TestPlan& plan, const RunOutputOptions& out);

// Prints "volley: <message>" (and a hint line) to stderr and returns the code for `error`.
int ReportError(const Error& error, const char* context);

// A human description of the load model ("rps 1000/s", "concurrent").
std::string DescribeLoad(const config::TestPlan& plan);

// Scenario and step names in plan order, for the report's tables.
output::PlanOrder PlanOrderOf(const config::TestPlan& plan);

// The final summary of a run: facts from the plan and `info`, figures from `snapshot` (the
// cumulative one), and every threshold evaluated on it.
output::Summary FinalSummary(const config::TestPlan& plan, const engine::RunInfo& info,
                             const metrics::Snapshot& snapshot,
                             const std::vector<metrics::CompiledThreshold>& thresholds);

}  // namespace volley::cli
