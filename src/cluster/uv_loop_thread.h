// A libuv loop on a thread of its own, reached from other threads only through Post()
// (uv_async_send: libuv handles are confined to their loop's thread, specs/cluster.md
// pitfall 6).
#pragma once

#include <uv.h>

#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace volley::cluster {

class UvLoopThread {
 public:
  UvLoopThread();   // initializes the loop; the thread starts with Run()
  ~UvLoopThread();  // REQUIRES: Join() was called, or Run() never was

  uv_loop_t* loop() { return &loop_; }

  // Starts the thread: it runs the loop until every handle is closed. Handles may be set
  // up on the calling thread before this.
  void Run();

  // Runs `fn` on the loop thread. Thread-safe. After CloseAsync() ran, `fn` is destroyed
  // without being called (so whatever it owns is released).
  void Post(std::function<void()> fn);

  // Loop thread only: closes the async handle, so the loop can end once the other handles
  // are closed too.
  void CloseAsync();

  void Join();

 private:
  static void OnAsync(uv_async_t* handle);

  uv_loop_t loop_;
  uv_async_t async_;
  std::thread thread_;
  std::mutex mu_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool closed_ = false;                      // guarded by mu_
};

}  // namespace volley::cluster
