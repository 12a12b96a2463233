// One engine worker: a thread with its own event loop, connections and metrics shard.
// Nothing on the request path is shared with other threads; the worker hands its shard's
// delta to the collector once per tick.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "connection.h"
#include "scenario_program.h"
#include "virtual_user.h"
#include "volley/common/event_loop.h"
#include "volley/engine/rate_schedule.h"
#include "volley/metrics/collector.h"
#include "volley/metrics/shard.h"

namespace volley::engine {

// Read-only during the run; shared by every worker.
struct RunShared {
  Endpoint endpoint;
  const TlsContext* tls = nullptr;
  std::string request;  // the serialized request of single-request mode
  bool head = false;
  bool replayable = false;                   // single-request mode: see ReplayableRequest
  const ScenarioProgram* program = nullptr;  // scenario mode when set
  std::optional<RateSchedule> schedule;      // open models only
  config::Segment segment;                   // this node's arrivals of `schedule`
  Nanos start{0};                            // T0: arrival times are relative to it
  Nanos deadline{0};                         // T0 + duration
  Nanos connect_timeout{0}, request_timeout{0}, grace{0}, tick{0};
  int threads = 1;
};

// What a worker is responsible for.
struct WorkerShare {
  int index = 0;
  int connections = 1;
  uint64_t budget = UINT64_MAX;     // iterations it may start
  uint64_t max_in_flight = 10'000;  // open models: queued + on the wire
};

class Worker final : public ConnectionOwner {
 public:
  // `shared` and `collector` must outlive the worker.
  Worker(const RunShared& shared, const WorkerShare& share, metrics::Collector& collector);
  ~Worker() override;

  // The thread body: runs until the test ends for this worker. Call once.
  void Run();
  // Thread-safe: stop starting iterations, drain in flight within the grace period.
  void RequestStop();

  // Thread-safe progress figures, updated once per tick.
  int64_t in_flight() const { return in_flight_published_.load(std::memory_order_relaxed); }
  // Valid after Run() returned.
  uint64_t abandoned() const { return abandoned_; }
  // Set when the worker could not start (e.g. out of file descriptors).
  const std::optional<Error>& init_error() const { return init_error_; }
  // The first failure's description per category (static text), or nullptr.
  const char* first_reason(size_t category) const { return first_reason_[category]; }

  void OnReady(Connection& c) override;
  void OnResponse(Connection& c, const ResponseParser& response) override;
  void OnFailure(Connection& c, ErrorCategory category, const char* what) override;
  void OnIdleClosed(Connection& c) override;
  void OnStaleRetry(Connection& c) override;

  // A user's think time or retry delay is over (VirtualUser's timer).
  void OnUserTimer(VirtualUser& u);

 private:
  // A Timer that calls a member function.
  struct MemberTimer final : Timer {
    Worker* worker = nullptr;
    void (Worker::*fn)() = nullptr;
    void OnTimer() override { (worker->*fn)(); }
  };

  void BindMetrics();
  metrics::Counter* StatusCounter(int code);
  void StartIteration(Connection& c);
  void Dispatch(Connection& c, Nanos intended);
  void OnPace();
  void OnTick();
  void OnDeadline();
  void OnGraceOver();
  void BeginStop();
  void MaybeFinish();
  void Finish();
  void CountFailure(ErrorCategory category, const char* what);
  void Reconnect(Connection& c);
  void LeavePool(Connection& c);
  void ScheduleNextArrival();
  // The instant of this node's k-th arrival: the plan's arrival segment.index +
  // segment.count * k (the node's segment of a cluster-wide schedule; k itself when whole).
  std::optional<Nanos> ArrivalAt(uint64_t k) const;
  void RecordResponse(Connection& c, const ResponseParser& response);

  // Scenario mode (worker_scenario.cc). Each connection carries one virtual user.
  void BindScenarioMetrics();
  void StartScenarioIteration(Connection& c, Nanos intended);
  // Sends the user's current step if the connection is idle; otherwise it goes when the
  // connection is ready.
  void SendStep(Connection& c, VirtualUser& u, Nanos intended);
  void OnScenarioResponse(Connection& c, const ResponseParser& response);
  void OnScenarioFailure(Connection& c, ErrorCategory category, const char* what);
  // The current step is over (`ok` or not): retry it, think, go on, or end the iteration.
  void AfterStep(Connection& c, VirtualUser& u, bool ok, bool retryable);
  void NextStep(Connection& c, VirtualUser& u);
  // Ends the user's iteration; `interrupted` (the test stopped) counts no execution. Then
  // the connection serves the next iteration, or reconnects.
  void EndIteration(Connection& c, VirtualUser& u, bool interrupted);
  void CountStepOutcome(const VirtualUser& u, bool ok);
  void InterruptUsers();
  void LogOnce(const std::string& message);
  bool UserNeedsConnection(const Connection& c) const;
  // Closed and no reconnect scheduled.
  static bool AwaitsReconnect(const Connection& c);

  const RunShared& shared_;
  const WorkerShare share_;
  metrics::Collector& collector_;
  EventLoop loop_;
  metrics::Shard shard_;
  std::vector<char> read_buffer_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<uint32_t> connect_failures_;  // consecutive, per connection

  // Metric handles (stable pointers into shard_).
  struct {
    metrics::Counter* requests;
    metrics::Counter* errors[kErrorCategoryCount];
    metrics::Counter* sent;
    metrics::Counter* received;
    metrics::Counter* dropped;
    metrics::Counter* stale_retries;
    metrics::Histogram* duration;
    metrics::Histogram* blocked;
    metrics::Histogram* connecting;
    metrics::Histogram* tls;
    metrics::Histogram* sending;
    metrics::Histogram* waiting;
    metrics::Histogram* receiving;
    metrics::Histogram* intended;
  } m_{};
  std::vector<metrics::Counter*> status_;  // by status code 0-999, registered lazily

  MemberTimer pace_timer_, tick_timer_, deadline_timer_, grace_timer_;
  Nanos next_tick_{0};
  bool open_ = false;
  bool stopping_ = false;
  // Scenario mode: set by RequestStop (Ctrl-C, an abort): users stop after their current
  // request. At the end of the schedule, the duration or the iteration budget, iterations
  // already started run to their end (within the grace period).
  bool interrupting_ = false;
  bool finished_ = false;
  uint64_t budget_;
  int64_t in_flight_ = 0;  // iterations on the wire (open: plus queued ones, see below)
  uint64_t abandoned_ = 0;
  std::optional<Error> init_error_;
  const char* first_reason_[kErrorCategoryCount] = {};
  // Open models.
  uint64_t next_arrival_ = 0;  // this worker's next arrival index k (of the node's arrivals)
  std::optional<Nanos> next_arrival_time_;
  std::vector<Nanos> queue_;  // ring of intended times waiting for a connection
  size_t queue_head_ = 0, queue_size_ = 0;
  std::vector<Connection*> idle_;
  // Scenario mode.
  std::vector<std::unique_ptr<VirtualUser>> users_;  // by connection id
  std::vector<ScenarioMetrics> scenario_metrics_;    // by scenario index
  std::vector<scenario::HeaderField> headers_;       // of the response being processed
  scenario::JsonBodyCache json_cache_;
  std::string body_buffer_;
  std::string scratch_;
  std::mt19937_64 rng_;
  int active_users_ = 0;  // closed model: users whose data file has not run out

  std::atomic<int64_t> in_flight_published_{0};
};

}  // namespace volley::engine
