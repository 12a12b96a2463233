// The metrics checkpoints a node restores from a Raft snapshot or applies from the log
// (cluster/leader_metrics.h, issue 14): bytes a hostile or corrupt peer may have produced.
// Invariants: no crash; a state that restores is written back identically after a
// second restore (State -> Restore -> State stable), and every checkpoint it kept decodes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "volley/cluster/leader_metrics.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace cluster = volley::cluster;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  cluster::LeaderMetricsOptions options;
  options.limits.max_series = 2'000;
  options.limits.max_histogram_buckets = 200'000;
  cluster::LeaderMetrics m(options);
  m.ApplyCheckpoint(bytes, volley::Nanos(1));
  auto r = m.Restore(bytes, volley::Nanos(2));
  if (!r) FUZZ_CHECK(!r.error().message.empty());
  const std::string state = m.State();
  cluster::LeaderMetrics again(options);
  FUZZ_CHECK(again.Restore(state, volley::Nanos(3)).has_value());
  FUZZ_CHECK(again.State() == state);
  const std::string run = m.CurrentRun();
  for (const auto& node : m.Nodes(run, volley::Nanos(4))) {
    auto cp = m.LastCheckpoint(run, node.node_id, volley::Nanos(4));
    FUZZ_CHECK(cp.has_value());
    FUZZ_CHECK(volley::wire::node::DecodeNodeCheckpoint(*cp, options.limits).has_value());
  }
  (void)m.LiveJson("L", volley::Nanos(5));
  return 0;
}
