#include "storage/writer_executor.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <future>
#include <vector>

namespace kefu::storage {
namespace {

// Prepared once and cached by the connection: parsing them for every job showed up in profiles.
constexpr std::string_view kSavepoint = "SAVEPOINT kefu_job";
constexpr std::string_view kRelease = "RELEASE kefu_job";
constexpr std::string_view kRollbackTo = "ROLLBACK TO kefu_job";

prometheus::Histogram::BucketBoundaries CommitBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
}

prometheus::Histogram::BucketBoundaries BatchBuckets() {
  return {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
}

// Runs one job, turning an escaping exception into kInternal.
Status RunJob(const WriterExecutor::Job& job, Database& db) {
  try {
    return job(db);
  } catch (const std::exception& e) {
    return Internal(std::string("storage: writer job threw: ") + e.what());
  } catch (...) {
    return Internal("storage: writer job threw a non-standard exception");
  }
}

// Runs one cached transaction-control statement.
Status RunControl(Database& db, std::string_view sql) {
  KEFU_ASSIGN_OR_RETURN(Statement * stmt, db.Prepare(sql));
  return stmt->Run();
}

}  // namespace

WriterExecutor::WriterExecutor(std::unique_ptr<Database> db, prometheus::Registry& registry,
                               WriterOptions options)
    : db_(std::move(db)), options_(options) {
  if (options_.max_batch == 0) options_.max_batch = 1;
  commit_seconds_ = &prometheus::BuildHistogram()
                         .Name("kefu_storage_commit_seconds")
                         .Help("Latency of the writer's group COMMIT")
                         .Register(registry)
                         .Add({}, CommitBuckets());
  batch_jobs_ = &prometheus::BuildHistogram()
                     .Name("kefu_storage_commit_batch_jobs")
                     .Help("Jobs committed together in one writer transaction")
                     .Register(registry)
                     .Add({}, BatchBuckets());
  auto& jobs = prometheus::BuildCounter()
                   .Name("kefu_storage_writer_jobs_total")
                   .Help("Writer jobs finished, by result")
                   .Register(registry);
  jobs_ok_ = &jobs.Add({{"result", "ok"}});
  jobs_error_ = &jobs.Add({{"result", "error"}});
  queue_depth_ = &prometheus::BuildGauge()
                      .Name("kefu_storage_writer_queue_depth")
                      .Help("Writer jobs queued and not yet started")
                      .Register(registry)
                      .Add({});
  checkpoints_ = &prometheus::BuildCounter()
                      .Name("kefu_storage_checkpoints_total")
                      .Help("WAL checkpoints, by thread and result")
                      .Register(registry);
  if (options_.checkpoint_wal_pages > 0) {
    DatabaseOptions checkpoint_options = db_->options();
    checkpoint_options.read_only = false;
    checkpoint_options.quick_check_on_open = false;
    auto checkpoint_db = Database::Open(checkpoint_options);
    if (checkpoint_db.ok()) {
      // Replaces SQLite's automatic checkpoint on the write connection.
      sqlite3_wal_hook(db_->handle(), &WriterExecutor::OnWalCommit, this);
      checkpointer_ = std::thread(
          [this, cdb = std::move(*checkpoint_db)]() mutable { CheckpointLoop(std::move(cdb)); });
    } else {
      spdlog::warn("storage: no background checkpointer, checkpoints run in COMMIT error={}",
                   checkpoint_db.status().ToString());
    }
  }
  thread_ = std::thread([this] { Loop(); });
  thread_id_.store(thread_.get_id());
}

Result<std::unique_ptr<WriterExecutor>> WriterExecutor::Open(const DatabaseOptions& options,
                                                             prometheus::Registry& registry,
                                                             WriterOptions writer_options) {
  DatabaseOptions write_options = options;
  write_options.read_only = false;
  KEFU_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(write_options));
  return std::make_unique<WriterExecutor>(std::move(db), registry, writer_options);
}

WriterExecutor::~WriterExecutor() {
  Stop();
}

void WriterExecutor::Post(Job job, Done done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(Pending{std::move(job), std::move(done)});
      queue_depth_->Increment();
      cv_.notify_one();
      return;
    }
  }
  if (done) done(Unavailable("storage: writer is stopped"));
}

Status WriterExecutor::Run(Job job) {
  if (OnWriterThread()) {
    return FailedPrecondition("storage: WriterExecutor::Run called on the writer thread");
  }
  std::promise<Status> promise;
  std::future<Status> future = promise.get_future();
  Post(std::move(job), [&promise](Status s) { promise.set_value(std::move(s)); });
  return future.get();
}

void WriterExecutor::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  // From a job or done callback the thread cannot join itself (and must not wait for stop_mu_,
  // which a joining Stop() holds); it drains and exits on its own and the destructor joins it.
  if (OnWriterThread()) return;
  std::lock_guard stop_lock(stop_mu_);
  if (thread_.joinable()) thread_.join();
  thread_id_.store(std::thread::id());
}

size_t WriterExecutor::QueueDepth() {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void WriterExecutor::Loop() {
  std::deque<Pending> group;
  while (true) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) break;  // stopping and drained
      size_t n = std::min(options_.max_batch, queue_.size());
      for (size_t i = 0; i < n; ++i) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queue_depth_->Decrement(static_cast<double>(n));
    }
    MaybeRestartWal();
    RunGroup(group);
    group.clear();
  }
  // Closing the last connection checkpoints the WAL into the main file.
  StopCheckpointer();
  db_.reset();
}

int WriterExecutor::OnWalCommit(void* self, sqlite3* /*db*/, const char* /*schema*/, int pages) {
  auto* w = static_cast<WriterExecutor*>(self);
  w->wal_pages_.store(pages, std::memory_order_relaxed);
  int copied = w->wal_copied_.load(std::memory_order_relaxed);
  if (pages < copied) {  // the WAL started over
    w->wal_copied_.store(0, std::memory_order_relaxed);
    copied = 0;
  }
  if (pages - copied >= w->options_.checkpoint_wal_pages) w->checkpoint_cv_.notify_one();
  return SQLITE_OK;
}

void WriterExecutor::CheckpointLoop(std::unique_ptr<Database> db) {
  std::unique_lock lock(checkpoint_mu_);
  while (true) {
    // The timeout covers a notify that raced with the predicate check (the hook does not lock).
    checkpoint_cv_.wait_for(lock, std::chrono::seconds(1), [&] {
      return checkpoint_stop_ || wal_pages_.load(std::memory_order_relaxed) -
                                         wal_copied_.load(std::memory_order_relaxed) >=
                                     options_.checkpoint_wal_pages;
    });
    if (checkpoint_stop_) break;
    if (wal_pages_.load() - wal_copied_.load() < options_.checkpoint_wal_pages) continue;
    lock.unlock();
    int log = 0;
    int done = 0;
    int rc =
        sqlite3_wal_checkpoint_v2(db->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    bool busy = (rc & 0xFF) == SQLITE_BUSY;
    checkpoints_
        ->Add({{"thread", "background"},
               {"result", rc == SQLITE_OK ? "ok"
                          : busy          ? "busy"
                                          : "error"}})
        .Increment();
    if (rc == SQLITE_OK) {
      wal_copied_.store(done, std::memory_order_relaxed);
    } else if (!busy) {
      spdlog::warn("storage: background checkpoint failed rc={}", rc);
    }
    lock.lock();
    // Busy (the writer is checkpointing) or failed: retry after a pause, not in a tight loop.
    if (rc != SQLITE_OK) {
      checkpoint_cv_.wait_for(lock, std::chrono::milliseconds(10),
                              [&] { return checkpoint_stop_; });
    }
  }
}

void WriterExecutor::StopCheckpointer() {
  {
    std::lock_guard lock(checkpoint_mu_);
    checkpoint_stop_ = true;
  }
  checkpoint_cv_.notify_one();
  if (checkpointer_.joinable()) checkpointer_.join();
}

void WriterExecutor::MaybeRestartWal() {
  if (!checkpointer_.joinable()) return;
  if (wal_pages_.load(std::memory_order_relaxed) < options_.restart_wal_pages) return;
  int log = 0;
  int done = 0;
  int rc =
      sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
  const char* result = rc == SQLITE_OK ? "ok" : ((rc & 0xFF) == SQLITE_BUSY ? "busy" : "error");
  checkpoints_->Add({{"thread", "writer"}, {"result", result}}).Increment();
  // Fully copied: the next transaction writes the WAL from its start. Busy (the background pass
  // holds the checkpoint lock): tried again before the next group.
  if (rc == SQLITE_OK && log == done) {
    wal_pages_.store(0, std::memory_order_relaxed);
    wal_copied_.store(0, std::memory_order_relaxed);
  }
}

void WriterExecutor::Finish(Pending& p, const Status& s) {
  if (!p.done) return;
  try {
    p.done(s);
  } catch (const std::exception& e) {
    spdlog::error("storage: writer done callback threw error={}", e.what());
  } catch (...) {
    spdlog::error("storage: writer done callback threw");
  }
}

void WriterExecutor::RunGroup(std::deque<Pending>& group) {
  while (!group.empty()) {
    Status begin = db_->Exec("BEGIN IMMEDIATE");
    if (!begin.ok()) {
      spdlog::error("storage: writer BEGIN failed jobs={} error={}", group.size(),
                    begin.ToString());
      for (Pending& p : group) {
        jobs_error_->Increment();
        Finish(p, begin);
      }
      return;
    }
    // Jobs run in this transaction, with their own result (ok ones wait for COMMIT).
    std::vector<std::pair<Pending, Status>> ran;
    ran.reserve(group.size());
    bool lost_transaction = false;
    while (!group.empty()) {
      Pending p = std::move(group.front());
      group.pop_front();
      Status s = RunControl(*db_, kSavepoint);
      if (s.ok()) {
        s = RunJob(p.job, *db_);
        // Some errors (disk full, I/O) make SQLite roll back the whole transaction by itself.
        if (!db_->InTransaction()) {
          lost_transaction = true;
          if (s.ok()) s = Internal("storage: writer transaction was rolled back by SQLite");
        } else if (s.ok()) {
          s = RunControl(*db_, kRelease);
        } else {
          Status undo = RunControl(*db_, kRollbackTo);
          if (undo.ok()) undo = RunControl(*db_, kRelease);
          if (!undo.ok()) {
            spdlog::error("storage: rolling back failed job error={}", undo.ToString());
            lost_transaction = true;
          }
        }
      }
      db_->ResetAllStatements();
      ran.emplace_back(std::move(p), std::move(s));
      if (lost_transaction) break;
    }

    Status commit;
    if (lost_transaction) {
      commit = Internal("storage: writer transaction was rolled back; the write was not committed");
      if (db_->InTransaction()) (void)db_->Exec("ROLLBACK");
    } else {
      auto start = std::chrono::steady_clock::now();
      commit = db_->Exec("COMMIT");
      commit_seconds_->Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      if (!commit.ok()) {
        spdlog::error("storage: writer COMMIT failed jobs={} error={}", ran.size(),
                      commit.ToString());
        if (db_->InTransaction()) (void)db_->Exec("ROLLBACK");
      }
    }
    batch_jobs_->Observe(static_cast<double>(ran.size()));
    for (auto& [p, s] : ran) {
      // A job that failed on its own keeps its own error; the others get the COMMIT result.
      Status result = !s.ok() ? s : commit;
      (result.ok() ? jobs_ok_ : jobs_error_)->Increment();
      Finish(p, result);
    }
  }
}

}  // namespace kefu::storage
