// WorkerPool: a few threads for blocking work that must stay off the HTTP I/O threads (database
// reads through the ReadPool, CPU-heavy matching). Handlers post a closure and answer from it.
//
// Thread-safe. Destruction (or Stop) runs every task already posted, then joins.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kefu::app {

class WorkerPool {
 public:
  // Starts `threads` (>= 1) worker threads.
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`. Returns false (and does not run it) after Stop().
  bool Post(std::function<void()> task);
  // Stops accepting tasks, finishes the queued ones and joins. Idempotent; not from a worker.
  void Stop();
  // Tasks queued and not yet started.
  size_t QueueDepth();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace kefu::app
