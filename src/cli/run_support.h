// Pieces of a running test shared by `run` and `node` (cli internal): the push outputs
// started and stopped together, and the abortOnFail thresholds checked once per tick.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "volley/common/clock.h"
#include "volley/metrics/collector.h"
#include "volley/metrics/threshold.h"
#include "volley/output/output.h"

namespace volley::cli {

// Owns the outputs of one run. Confined to the thread that runs the test, except
// WantsAbort (thread-safe).
class OutputSet {
 public:
  explicit OutputSet(std::vector<std::unique_ptr<output::Output>> outputs)
      : outputs_(std::move(outputs)) {}
  ~OutputSet() { Stop(); }
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;

  // Starts every output; on the first failure stops those already started.
  Result<void> Start(const metrics::Collector& collector);
  // After the last collector tick: each output flushes within `flush` and joins its
  // threads. Idempotent.
  void Stop(Nanos flush = std::chrono::seconds(15));
  bool WantsAbort() const;
  std::vector<std::string> ReportLines() const;

 private:
  std::vector<std::unique_ptr<output::Output>> outputs_;
  size_t started_ = 0;
  bool stopped_ = false;
};

// The thresholds with abortOnFail, evaluated on the cumulative snapshot during the run.
// Confined to the thread that ticks the collector.
class AbortWatch {
 public:
  // Keeps the thresholds of `all` whose plan entry asked for abortOnFail (passed in
  // `abort_on_fail`, parallel to `all`; empty means none).
  AbortWatch(const std::vector<metrics::CompiledThreshold>& all,
             const std::vector<bool>& abort_on_fail, const std::vector<Nanos>& delays);

  // True once a watched threshold fails after its delay; then reason() says which.
  bool ShouldAbort(const metrics::Collector& collector, Nanos elapsed);
  const std::string& reason() const { return reason_; }

 private:
  struct Watched {
    metrics::CompiledThreshold threshold;
    Nanos delay{0};
  };
  std::vector<Watched> watched_;
  std::string reason_;
};

}  // namespace volley::cli
