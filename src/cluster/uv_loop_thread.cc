#include "uv_loop_thread.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace volley::cluster {

UvLoopThread::UvLoopThread() {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &async_, &UvLoopThread::OnAsync);
  async_.data = this;
}

UvLoopThread::~UvLoopThread() { uv_loop_close(&loop_); }

void UvLoopThread::Run() {
  thread_ = std::thread([this] {
    // Raft's heartbeats go ahead of the load's workers when the machine is saturated
    // (issue 12 §8). Raising priority needs CAP_SYS_NICE; without it, this stays at 0.
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), -10);
    uv_run(&loop_, UV_RUN_DEFAULT);
  });
}

void UvLoopThread::Post(std::function<void()> fn) {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) {
    lock.unlock();
    return;  // `fn` is destroyed here, with what it owns
  }
  queue_.push_back(std::move(fn));
  uv_async_send(&async_);
}

void UvLoopThread::CloseAsync() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    dropped.swap(queue_);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
}

void UvLoopThread::Join() {
  if (thread_.joinable()) thread_.join();
}

void UvLoopThread::OnAsync(uv_async_t* handle) {
  auto* self = static_cast<UvLoopThread*>(handle->data);
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      if (self->queue_.empty() || self->closed_) return;
      fn = std::move(self->queue_.front());
      self->queue_.pop_front();
    }
    fn();
  }
}

}  // namespace volley::cluster
