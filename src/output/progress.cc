#include "volley/output/progress.h"

#include <cmath>

namespace volley::output {

std::string FormatLatency(double seconds) {
  char buf[32];
  if (seconds <= 0) return "0";
  if (seconds < 1e-3) {
    snprintf(buf, sizeof buf, "%.0fµs", seconds * 1e6);
  } else if (seconds < 1) {
    snprintf(buf, sizeof buf, seconds < 0.01 ? "%.2fms" : "%.1fms", seconds * 1e3);
  } else {
    snprintf(buf, sizeof buf, "%.2fs", seconds);
  }
  return buf;
}

std::string FormatCount(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string FormatBytes(uint64_t n) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

ProgressPrinter::ProgressPrinter(FILE* out, bool tty, Nanos plain_every)
    : out_(out), tty_(tty), plain_every_(plain_every) {}

void ProgressPrinter::Update(const ProgressFigures& f) {
  if (!tty_ && last_plain_ >= Nanos(0) && f.elapsed - last_plain_ < plain_every_) return;
  const double err_pct =
      f.requests > 0 ? 100.0 * static_cast<double>(f.errors) / static_cast<double>(f.requests) : 0;
  char line[256];
  const double elapsed = static_cast<double>(f.elapsed.count()) / 1e9;
  const double total = static_cast<double>(f.duration.count()) / 1e9;
  snprintf(line, sizeof line,
           "[%6.1fs / %.0fs] %10.0f req/s  %s requests  errors %.2f%%  p95 %s  in flight %lld%s",
           elapsed, total, f.rps, FormatCount(f.requests).c_str(), err_pct,
           FormatLatency(f.p95_seconds).c_str(), static_cast<long long>(f.in_flight),
           f.stopping ? "  (stopping)" : "");
  if (tty_) {
    fprintf(out_, "\r\033[K%s", line);
    dirty_ = true;
  } else {
    fprintf(out_, "%s\n", line);
    last_plain_ = f.elapsed;
  }
  fflush(out_);
}

void ProgressPrinter::Finish() {
  if (tty_ && dirty_) fprintf(out_, "\n");
  dirty_ = false;
  fflush(out_);
}

}  // namespace volley::output
