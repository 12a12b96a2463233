#include "run_support.h"

#include <cstdio>

namespace volley::cli {

Result<void> OutputSet::Start(const metrics::Collector& collector) {
  for (auto& o : outputs_) {
    if (auto r = o->Start(collector); !r) {
      Stop(std::chrono::seconds(1));
      return MakeError(r.error().code, o->Name() + ": " + r.error().message);
    }
    ++started_;
  }
  return {};
}

void OutputSet::Stop(Nanos flush) {
  if (stopped_) return;
  stopped_ = true;
  if (started_ > 0) fprintf(stderr, "volley: flushing outputs\n");
  for (size_t i = 0; i < started_; ++i) {
    // Each output's deadline is on its own clock (its context's).
    outputs_[i]->Stop(MonotonicNow() + flush);
  }
}

bool OutputSet::WantsAbort() const {
  for (size_t i = 0; i < started_; ++i) {
    if (outputs_[i]->WantsAbort()) return true;
  }
  return false;
}

std::vector<std::string> OutputSet::ReportLines() const {
  std::vector<std::string> lines;
  for (size_t i = 0; i < started_; ++i) {
    for (auto& l : outputs_[i]->ReportLines()) lines.push_back(std::move(l));
  }
  return lines;
}

AbortWatch::AbortWatch(const std::vector<metrics::CompiledThreshold>& all,
                       const std::vector<bool>& abort_on_fail, const std::vector<Nanos>& delays) {
  for (size_t i = 0; i < all.size() && i < abort_on_fail.size(); ++i) {
    if (abort_on_fail[i]) watched_.push_back({all[i], i < delays.size() ? delays[i] : Nanos(0)});
  }
}

bool AbortWatch::ShouldAbort(const metrics::Collector& collector, Nanos elapsed) {
  if (!reason_.empty()) return true;
  bool due = false;
  for (const Watched& w : watched_) due = due || elapsed >= w.delay;
  if (!due) return false;
  const metrics::Snapshot now = collector.Cumulative();
  for (const Watched& w : watched_) {
    if (elapsed < w.delay) continue;
    for (const auto& r : metrics::Evaluate(w.threshold, now, elapsed)) {
      if (r.passed) continue;
      reason_ = "volley: aborted: threshold " + r.metric + " " + r.condition + " failed (" +
                r.observed_text + ") with abortOnFail";
      fprintf(stderr, "\n%s\n", reason_.c_str());
      return true;
    }
  }
  return false;
}

}  // namespace volley::cli
