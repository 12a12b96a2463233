#include "volley/common/signals.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace volley {
namespace {

bool Blocked(int sig) {
  sigset_t now;
  pthread_sigmask(SIG_BLOCK, nullptr, &now);
  return sigismember(&now, sig) == 1;
}

TEST(ShutdownSignals, ThreadsStartedAfterItInheritTheBlockedMaskAndTheMaskIsRestored) {
  ASSERT_FALSE(Blocked(SIGINT));
  {
    ShutdownSignals signals;
    bool int_blocked = false, term_blocked = false;
    std::thread t([&] {
      int_blocked = Blocked(SIGINT);
      term_blocked = Blocked(SIGTERM);
    });
    t.join();
    EXPECT_TRUE(int_blocked);
    EXPECT_TRUE(term_blocked);
    EXPECT_EQ(signal(SIGPIPE, SIG_IGN), SIG_IGN);  // ignored by the helper
  }
  EXPECT_FALSE(Blocked(SIGINT));
  EXPECT_FALSE(Blocked(SIGTERM));
}

TEST(ShutdownSignals, TheFirstSignalRunsOnFirstAndWakesWait) {
  std::atomic<int> calls{0};
  ShutdownSignals::Options options;
  options.on_first = [&] { ++calls; };
  ShutdownSignals signals(options);
  EXPECT_FALSE(signals.interrupted());
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);
  EXPECT_EQ(signals.Wait(), SIGTERM);
  EXPECT_TRUE(signals.interrupted());
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(signals.Wait(), SIGTERM);  // returns at once once a signal has arrived
}

TEST(ShutdownSignalsDeathTest, TheSecondSignalExitsAtOnceWithTheGivenCode) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ShutdownSignals::Options options;
        options.second_exit_code = 42;
        ShutdownSignals signals(options);
        kill(getpid(), SIGINT);
        signals.Wait();
        kill(getpid(), SIGINT);
        for (;;) pause();
      },
      ::testing::ExitedWithCode(42), "");
}

}  // namespace
}  // namespace volley
