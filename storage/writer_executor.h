// WriterExecutor: the single thread that owns the write connection and groups commits.
//
// Every write in kefud is a job posted here. The writer takes all queued jobs (up to
// WriterOptions::max_batch), opens one BEGIN IMMEDIATE transaction, runs each job inside its own
// SAVEPOINT (a failing job rolls back only its own work and gets its own Status), COMMITs once, and
// only then calls each job's `done` callback. One fsync thus acknowledges many writes; a `done`
// with an ok Status means the write is durable (per DatabaseOptions::synchronous).
//
// WAL checkpoints do not run inside COMMIT (SQLite's automatic checkpoint would make the writer
// wait for the checkpoint's fsyncs): once WriterOptions::checkpoint_wal_pages new pages are in the
// WAL, a background thread with its own connection copies them into the database file (PASSIVE,
// never blocking the writer). The WAL file can only start over when it is fully copied before a
// transaction begins, so at WriterOptions::restart_wal_pages the writer checkpoints the rest
// itself between two groups (one short pause, bounding the WAL file).
//
// Metrics (on the registry given to the constructor): kefu_storage_commit_seconds (histogram,
// COMMIT latency), kefu_storage_commit_batch_jobs (histogram, jobs per group),
// kefu_storage_writer_jobs_total{result="ok|error"}, kefu_storage_writer_queue_depth (gauge),
// kefu_storage_checkpoints_total{thread="background|writer",result="ok|busy|error"}.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "core/result.h"
#include "core/status.h"
#include "storage/database.h"

namespace prometheus {
class Registry;
class Histogram;
class Counter;
class Gauge;
template <typename T>
class Family;
}  // namespace prometheus

namespace kefu::storage {

struct WriterOptions {
  // Most jobs committed together in one transaction.
  size_t max_batch = 256;
  // WAL pages not yet copied into the database file that wake the background checkpointer.
  // 0: no background checkpointer, SQLite's automatic checkpoint (1000 pages) inside COMMIT.
  int checkpoint_wal_pages = 1000;
  // WAL size (pages) at which the writer checkpoints the remainder itself before its next group,
  // so that the WAL starts over (see the class comment). Normally well above checkpoint_wal_pages.
  int restart_wal_pages = 25000;
};

class WriterExecutor {
 public:
  using Job = std::function<Status(Database&)>;
  using Done = std::function<void(Status)>;

  // Takes ownership of the write connection (opened with read_only = false, migrations usually
  // already applied) and starts the writer thread. Registers its metrics on `registry`, which must
  // outlive this object.
  WriterExecutor(std::unique_ptr<Database> db, prometheus::Registry& registry,
                 WriterOptions options = {});
  // Opens the write connection with `options` and starts the executor. Errors: Database::Open's.
  static Result<std::unique_ptr<WriterExecutor>> Open(const DatabaseOptions& options,
                                                      prometheus::Registry& registry,
                                                      WriterOptions writer_options = {});
  // Stop().
  ~WriterExecutor();
  WriterExecutor(const WriterExecutor&) = delete;
  WriterExecutor& operator=(const WriterExecutor&) = delete;

  // Queues `job`. Thread-safe, never blocks on the database. `job` runs on the writer thread inside
  // the group's transaction (in its own SAVEPOINT; do not COMMIT/ROLLBACK/BEGIN in it, use
  // storage::Transaction which nests). `done` (may be empty) is called on the writer thread after
  // the group's COMMIT with: the job's own error (its work rolled back); the COMMIT/BEGIN error
  // (then every job of the group gets it and none of their work is kept); kInternal if the job
  // threw; or Ok (the work is committed). `done` must be quick and must not call Run()/Call().
  // After Stop(), `done` is called at once on the caller's thread with kUnavailable.
  void Post(Job job, Done done = nullptr);

  // Posts `job` and blocks until its group has committed; returns what `done` would get. Never call
  // it on an I/O thread. Called on the writer thread itself (from a job or done callback) it
  // returns kFailedPrecondition instead of deadlocking.
  Status Run(Job job);

  // Like Run for a job returning Result<T>: the value is returned only once it is committed.
  template <typename F>
  auto Call(F&& job) -> std::invoke_result_t<F&, Database&> {
    using R = std::invoke_result_t<F&, Database&>;
    std::optional<R> out;
    Status s = Run([&](Database& db) -> Status {
      out.emplace(job(db));
      return out->status();
    });
    if (!s.ok()) return R(std::move(s));
    return std::move(*out);
  }

  // Stops accepting jobs, runs and commits everything already queued (every job posted before
  // Stop() gets its `done`), then closes the write connection (which checkpoints the WAL) and joins
  // the thread. Idempotent. Called from the writer thread (a job or done callback) it only stops
  // accepting jobs and returns; the queue is still drained and the destructor joins.
  void Stop();

  // True on the writer thread (inside jobs and done callbacks).
  bool OnWriterThread() const { return std::this_thread::get_id() == thread_id_.load(); }
  // Jobs queued and not yet taken by the writer.
  size_t QueueDepth();

 private:
  struct Pending {
    Job job;
    Done done;
  };

  void Loop();
  void RunGroup(std::deque<Pending>& group);
  static void Finish(Pending& p, const Status& s);
  // sqlite3_wal_hook callback: records the WAL size after each commit and wakes the checkpointer.
  static int OnWalCommit(void* self, struct sqlite3* db, const char* schema, int pages);
  void CheckpointLoop(std::unique_ptr<Database> db);
  void StopCheckpointer();
  // On the writer thread before BEGIN: the writer's own checkpoint at restart_wal_pages.
  void MaybeRestartWal();

  std::unique_ptr<Database> db_;
  WriterOptions options_;
  prometheus::Histogram* commit_seconds_;
  prometheus::Histogram* batch_jobs_;
  prometheus::Counter* jobs_ok_;
  prometheus::Counter* jobs_error_;
  prometheus::Gauge* queue_depth_;
  prometheus::Family<prometheus::Counter>* checkpoints_;

  std::atomic<int> wal_pages_{0};   // WAL size after the last commit (set by OnWalCommit)
  std::atomic<int> wal_copied_{0};  // WAL frames already in the database file (checkpointed)
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_stop_ = false;  // guarded by checkpoint_mu_
  std::thread checkpointer_;      // started in the constructor, joined by StopCheckpointer()

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  std::mutex stop_mu_;         // serialises Stop() callers
  std::thread thread_;
  std::atomic<std::thread::id> thread_id_;
};

}  // namespace kefu::storage
