// ReadPool: a fixed set of read-only connections to one WAL database, lent out one per caller.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/result.h"
#include "storage/database.h"

namespace kefu::storage {

class ReadPool {
 public:
  // Opens `size` (>= 1) connections with `options` forced to read_only (connection initializers run
  // on each). The database must already exist (open the write connection and migrate first).
  // Errors: kInvalidArgument for size < 1, or the first Database::Open error.
  static Result<std::unique_ptr<ReadPool>> Open(DatabaseOptions options, int size);
  ~ReadPool();
  ReadPool(const ReadPool&) = delete;
  ReadPool& operator=(const ReadPool&) = delete;

  // A borrowed connection; returns it to the pool on destruction (its statements reset). Must not
  // outlive the pool.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(std::exchange(other.pool_, nullptr)), db_(other.db_) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_) pool_->Return(db_);
    }
    Database& operator*() const { return *db_; }
    Database* operator->() const { return db_; }

   private:
    friend class ReadPool;
    Lease(ReadPool* pool, Database* db) : pool_(pool), db_(db) {}
    ReadPool* pool_;
    Database* db_;
  };

  // Borrows a connection, blocking until one is free. Thread-safe.
  Lease Borrow();

  // Runs f(Database&) on a borrowed connection inside one read transaction (BEGIN ... COMMIT), so
  // all its statements see the same snapshot, and returns what f returns. Blocks while all
  // connections are busy. Thread-safe. f must not write (the connection is read-only).
  template <typename F>
  auto Read(F&& f) -> std::invoke_result_t<F&, Database&> {
    Lease lease = Borrow();
    Snapshot snapshot(*lease);
    return f(*lease);
  }

  int size() const { return static_cast<int>(all_.size()); }

 private:
  // Opens a read transaction on construction, resets statements and ends it on destruction.
  class Snapshot {
   public:
    explicit Snapshot(Database& db);
    ~Snapshot();
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

   private:
    Database& db_;
    bool open_;
  };

  ReadPool() = default;
  void Return(Database* db);

  std::vector<std::unique_ptr<Database>> all_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Database*> free_;  // guarded by mu_
};

}  // namespace kefu::storage
