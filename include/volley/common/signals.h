// Ctrl-C and SIGTERM for the whole process, taken synchronously on one thread (sigwait), so
// no work ever runs inside a signal handler. Every long-running subcommand uses this one
// helper: run, demo, target, node and ingest.
#pragma once

#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace volley {

// Blocks SIGINT and SIGTERM in the calling thread, so that every thread it starts afterwards
// inherits the blocked mask (a thread that does not block them would be killed by them), and
// ignores SIGPIPE (a peer that closes early is an error on the write, not a crash).
// Idempotent. Returns the mask that was in force before, for a caller that restores it.
// REQUIRES: called before the threads that must not take the signals are started.
sigset_t BlockShutdownSignals();

// Watches SIGINT and SIGTERM. The first one sets interrupted(), writes `first_message` to
// stderr (when not empty), calls `on_first` on the watcher's own thread and wakes Wait();
// the second one ends the process at once with _exit(second_exit_code).
//
// Construction calls BlockShutdownSignals() and starts the watcher thread; destruction ends
// that thread and restores the signal mask the constructor found. REQUIRES: constructed
// before any thread that must not take the signals is started (threads inherit the mask),
// and at most one ShutdownSignals alive at a time.
//
// Thread-safe: Wait() and interrupted() may be called from any thread.
class ShutdownSignals {
 public:
  struct Options {
    std::string first_message;                 // written to stderr at the first signal
    int second_exit_code = 130;                // _exit code at the second signal
    std::function<void()> on_first = nullptr;  // runs on the watcher thread; may be empty
  };

  ShutdownSignals() : ShutdownSignals(Options{}) {}
  explicit ShutdownSignals(Options options);
  ~ShutdownSignals();
  ShutdownSignals(const ShutdownSignals&) = delete;
  ShutdownSignals& operator=(const ShutdownSignals&) = delete;

  // Blocks until the first SIGINT or SIGTERM has arrived (at once if it already has);
  // returns that signal's number.
  int Wait();

  // True once the first signal has arrived.
  bool interrupted() const { return interrupted_.load(); }

 private:
  void Watch();

  // Immutable after construction.
  const Options options_;
  sigset_t watched_;   // SIGINT, SIGTERM and SIGUSR1 (the destructor's wake-up)
  sigset_t old_mask_;  // restored by the destructor

  std::atomic<bool> interrupted_{false};
  std::atomic<bool> done_{false};
  std::mutex mu_;
  std::condition_variable first_cv_;
  int first_signal_ = 0;  // guarded by mu_
  std::thread thread_;    // started last
};

}  // namespace volley
