#include "volley/common/signals.h"

#include <pthread.h>
#include <unistd.h>

namespace volley {

sigset_t BlockShutdownSignals() {
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  signal(SIGPIPE, SIG_IGN);
  return old;
}

ShutdownSignals::ShutdownSignals(Options options) : options_(std::move(options)) {
  sigemptyset(&watched_);
  sigaddset(&watched_, SIGINT);
  sigaddset(&watched_, SIGTERM);
  sigaddset(&watched_, SIGUSR1);  // our own wake-up to end the thread
  old_mask_ = BlockShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &watched_, nullptr);
  thread_ = std::thread([this] { Watch(); });
}

ShutdownSignals::~ShutdownSignals() {
  done_.store(true);
  pthread_kill(thread_.native_handle(), SIGUSR1);
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

int ShutdownSignals::Wait() {
  std::unique_lock<std::mutex> lock(mu_);
  first_cv_.wait(lock, [this] { return first_signal_ != 0; });
  return first_signal_;
}

void ShutdownSignals::Watch() {
  for (;;) {
    int sig = 0;
    if (sigwait(&watched_, &sig) != 0) return;
    if (sig == SIGUSR1) {
      if (done_.load()) return;  // our own wake-up; a stray SIGUSR1 is ignored
      continue;
    }
    if (interrupted_.exchange(true)) _exit(options_.second_exit_code);
    if (!options_.first_message.empty()) {
      [[maybe_unused]] ssize_t w =
          write(STDERR_FILENO, options_.first_message.data(), options_.first_message.size());
    }
    if (options_.on_first) options_.on_first();
    {
      std::lock_guard<std::mutex> lock(mu_);
      first_signal_ = sig;
    }
    first_cv_.notify_all();
  }
}

}  // namespace volley
