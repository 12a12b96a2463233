#include "volley/cluster/clock_offset.h"

namespace volley::cluster {

Result<ClockOffset> EstimateOffset(const std::vector<ClockSample>& samples) {
  ClockOffset best;
  Nanos best_rtt{-1};
  for (const ClockSample& s : samples) {
    const Nanos local = s.t3 - s.t0, remote = s.t2 - s.t1;
    if (local < Nanos(0) || remote < Nanos(0) || remote > local) continue;  // not causal
    ++best.samples;
    const Nanos rtt = local - remote;
    if (best_rtt >= Nanos(0) && rtt >= best_rtt) continue;
    best_rtt = rtt;
    best.offset = ((s.t1 - s.t0) + (s.t2 - s.t3)) / 2;
    best.uncertainty = rtt / 2;
  }
  if (best.samples == 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "clock offset: no usable sample (" + std::to_string(samples.size()) +
                         " exchanges, none with receive after send on both clocks)");
  }
  return best;
}

}  // namespace volley::cluster
