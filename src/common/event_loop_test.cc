#include "volley/common/event_loop.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace volley {
namespace {

struct RecordingTimer : Timer {
  std::vector<int>* log;
  int id;
  RecordingTimer(std::vector<int>* l, int i) : log(l), id(i) {}
  void OnTimer() override { log->push_back(id); }
};

TEST(EventLoop, TimersFireInDeadlineOrderWithAFakeClock) {
  FakeClock clock;
  EventLoop loop(clock);
  ASSERT_TRUE(loop.Init().has_value());
  std::vector<int> fired;
  std::vector<RecordingTimer> timers;
  for (int i = 0; i < 50; ++i) timers.emplace_back(&fired, i);
  const Nanos t0 = clock.Now();
  // Deadlines in a scrambled order: 37*i mod 50 is a permutation.
  for (int i = 0; i < 50; ++i) loop.Arm(&timers[i], t0 + Nanos((37 * i) % 50 + 1));
  loop.Cancel(&timers[3]);
  loop.Arm(&timers[4], t0 + Nanos(1000));  // re-armed later
  clock.Advance(Nanos(60));
  loop.RunOnce(Nanos(0));
  ASSERT_EQ(fired.size(), 48u);
  for (size_t i = 1; i < fired.size(); ++i) {
    EXPECT_LT((37 * fired[i - 1]) % 50, (37 * fired[i]) % 50);
  }
  EXPECT_FALSE(timers[4].armed() == false);
  clock.Advance(Nanos(1000));
  loop.RunOnce(Nanos(0));
  ASSERT_EQ(fired.size(), 49u);
  EXPECT_EQ(fired.back(), 4);
}

// Logs "<name>" when it runs; optionally defers `next` (work deferring work).
struct LoggingDeferred : Deferred {
  std::vector<std::string>* log = nullptr;
  std::string name;
  EventLoop* loop = nullptr;
  Deferred* next = nullptr;
  void OnDeferred() override {
    log->push_back(name);
    if (next) loop->Defer(next);
  }
};

struct LoggingTimer : Timer {
  std::vector<std::string>* log = nullptr;
  EventLoop* loop = nullptr;
  Deferred* defer = nullptr;
  void OnTimer() override {
    log->push_back("timer");
    loop->Defer(defer);
  }
};

TEST(EventLoop, DeferredWorkRunsOnceAtTheEndOfTheTurnAfterTimers) {
  FakeClock clock;
  EventLoop loop(clock);
  ASSERT_TRUE(loop.Init().has_value());
  std::vector<std::string> log;
  LoggingDeferred a, b, c, cancelled;
  for (auto* d : {&a, &b, &c, &cancelled}) {
    d->log = &log;
    d->loop = &loop;
  }
  a.name = "a";
  b.name = "b";
  c.name = "c";
  cancelled.name = "cancelled";
  b.next = &c;  // deferred while deferred work runs: same turn
  LoggingTimer timer;
  timer.log = &log;
  timer.loop = &loop;
  timer.defer = &a;
  loop.Arm(&timer, clock.Now() + Nanos(10));
  clock.Advance(Nanos(10));

  loop.Defer(&b);
  loop.Defer(&b);  // already deferred: no second run
  loop.Defer(&cancelled);
  EXPECT_TRUE(cancelled.deferred());
  loop.Cancel(&cancelled);
  EXPECT_FALSE(cancelled.deferred());
  EXPECT_EQ(loop.RunOnce(Nanos(0)), 0);  // no descriptor was ready
  EXPECT_EQ(log, (std::vector<std::string>{"timer", "b", "a", "c"}));
  EXPECT_FALSE(a.deferred());

  log.clear();
  loop.RunOnce(Nanos(0));
  EXPECT_TRUE(log.empty());
}

struct Reader : IoHandler {
  int fd;
  std::string got;
  void OnIo(uint32_t) override {
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) got.append(buf, static_cast<size_t>(n));
  }
};

TEST(EventLoop, DispatchesReadinessAndPostedWorkAcrossThreads) {
  EventLoop loop(SteadyClock::Instance());
  ASSERT_TRUE(loop.Init().has_value());
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  Reader reader;
  reader.fd = sv[0];
  ASSERT_TRUE(loop.Add(sv[0], EPOLLIN, &reader).has_value());
  int posted = 0;
  std::thread other([&] {
    ASSERT_EQ(write(sv[1], "ping", 4), 4);
    loop.Post([&] { ++posted; });
  });
  other.join();
  // Both the readable socket and the posted task are ready now; a bounded number of
  // iterations must see them (no sleeping: the loop blocks until the events arrive).
  for (int i = 0; i < 10 && (reader.got.size() < 4 || posted == 0); ++i) {
    loop.RunOnce(std::chrono::seconds(5));
  }
  EXPECT_EQ(reader.got, "ping");
  EXPECT_EQ(posted, 1);
  std::thread stopper([&] { loop.Stop(); });
  loop.Run();  // returns because of Stop()
  stopper.join();
  EXPECT_TRUE(loop.stopped());
  close(sv[0]);
  close(sv[1]);
}

}  // namespace
}  // namespace volley
