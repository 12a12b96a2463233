// One thread of the target: an EventLoop, a SO_REUSEPORT listening socket, a pool of
// connections, the status rotation and single-writer counters.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "response_table.h"
#include "status_rotation.h"
#include "volley/common/event_loop.h"
#include "volley/target/options.h"

namespace volley::target {

class Connection;

// Immutable after TargetServer::Start() and read by every worker.
struct SharedState {
  SharedState(const TargetOptions& o, const std::vector<int>& codes)
      : options(o), table(codes, o.body_size, o.body) {}

  TargetOptions options;
  ResponseTable table;
  Nanos start_time{0};  // MonotonicNow() at start; stall windows count from here
  bool timed = false;   // latency or stall configured: responses carry a due time
  // Both thread-safe; called by workers for the control endpoints.
  std::function<std::string()> stats_json;
  std::function<void()> reset_stats;
};

inline constexpr size_t kStatusSlots = 600;  // by_status is indexed by the code itself

// Plain numbers: a sum of workers' counters, or a reset baseline.
struct CounterTotals {
  uint64_t requests = 0;
  uint64_t responses = 0;
  uint64_t connections = 0;
  uint64_t bytes_sent = 0;
  std::array<uint64_t, kStatusSlots> by_status{};
};

// Written only by the owning worker thread, read by any thread. A single writer means an
// increment is a relaxed load and store (no locked instruction); readers see each counter
// exactly, and the set of counters as a near-instant snapshot.
struct alignas(64) WorkerCounters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> responses{0};
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> bytes_sent{0};
  std::array<std::atomic<uint64_t>, kStatusSlots> by_status{};

  // Owner thread only.
  static void Bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // Any thread: adds these counters to `totals`.
  void AddTo(CounterTotals* totals) const;
};

// Confined to its thread once Run() starts, except Stop() and ReadCounters().
class Worker final : public IoHandler, public Timer {
 public:
  // `shared` must outlive the worker. Takes ownership of the listening socket `listen_fd`.
  // `seed` seeds the latency RNG.
  Worker(const SharedState& shared, int listen_fd, uint64_t seed);
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Sets up the loop and registers the listener. Call before Run(), on any thread.
  Result<void> Init();
  // Serves until Stop(). Call on the worker's own thread.
  void Run();
  // Thread-safe: makes Run() return soon.
  void Stop();
  // Closes the listener and every connection. Only when Run() is not running.
  void CloseAll();
  // Thread-safe.
  void ReadCounters(CounterTotals* totals) const { counters_.AddTo(totals); }

  // The rest is for this worker's connections, on the worker's thread.
  EventLoop& loop() { return loop_; }
  const SharedState& shared() const { return shared_; }
  WorkerCounters& counters() { return counters_; }
  // The next response of the status mix; sets *status to its code.
  const PreparedResponse& NextResponse(ConnectionHeader connection, int* status);
  // When the answer to a request read at `now` may be sent: after the latency and outside
  // stall windows. Nanos::min() when neither is configured.
  Nanos ResponseDue(Nanos now);
  // Returns a closed connection to the pool.
  void Release(Connection* connection) { free_.push_back(connection); }

  void OnIo(uint32_t events) override;  // the listener is readable: accept
  void OnTimer() override;              // accepting resumes after running out of fds

 private:
  uint64_t NextRandom();

  const SharedState& shared_;
  EventLoop loop_;  // declared before the connections, which deregister from it
  int listen_fd_;
  StatusRotation rotation_;
  std::vector<std::array<const PreparedResponse*, 3>> rotation_responses_;
  uint64_t rng_;
  WorkerCounters counters_;
  std::vector<std::unique_ptr<Connection>> connections_;  // every one ever made; reused
  std::vector<Connection*> free_;
};

}  // namespace volley::target
