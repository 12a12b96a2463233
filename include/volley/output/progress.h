// The live progress line: rewritten in place on a terminal, plain periodic lines otherwise.
#pragma once

#include <cstdio>
#include <string>

#include "volley/common/clock.h"

namespace volley::output {

struct ProgressFigures {
  Nanos elapsed{0}, duration{0};
  double rps = 0;
  uint64_t requests = 0, errors = 0;
  double p95_seconds = 0;
  int64_t in_flight = 0;
  bool stopping = false;
};

// Confined to the thread that reports progress. Writes to `out` (usually stderr).
class ProgressPrinter {
 public:
  // `tty`: rewrite one line with '\r'; otherwise print a line every `plain_every`.
  ProgressPrinter(FILE* out, bool tty, Nanos plain_every = std::chrono::seconds(5));
  void Update(const ProgressFigures& f);
  // Ends the in-place line so the report starts on a fresh line.
  void Finish();

 private:
  FILE* out_;
  bool tty_;
  Nanos plain_every_;
  Nanos last_plain_{-1};
  bool dirty_ = false;
};

// "12.3ms", "845µs", "1.52s": three significant digits for latencies.
std::string FormatLatency(double seconds);
// "1,234,567"
std::string FormatCount(uint64_t n);
// "12.3 MB"
std::string FormatBytes(uint64_t n);

}  // namespace volley::output
