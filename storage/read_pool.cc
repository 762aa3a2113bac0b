#include "storage/read_pool.h"

#include <spdlog/spdlog.h>

namespace kefu::storage {

Result<std::unique_ptr<ReadPool>> ReadPool::Open(DatabaseOptions options, int size) {
  if (size < 1)
    return InvalidArgument("storage: read pool size must be >= 1, got " + std::to_string(size));
  options.read_only = true;
  std::unique_ptr<ReadPool> pool(new ReadPool());
  for (int i = 0; i < size; ++i) {
    KEFU_ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(options));
    pool->free_.push_back(db.get());
    pool->all_.push_back(std::move(db));
  }
  return pool;
}

ReadPool::~ReadPool() = default;

ReadPool::Lease ReadPool::Borrow() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return !free_.empty(); });
  Database* db = free_.back();
  free_.pop_back();
  return Lease(this, db);
}

void ReadPool::Return(Database* db) {
  // A half-stepped statement would pin an old WAL snapshot and keep checkpoints from finishing.
  db->ResetAllStatements();
  {
    std::lock_guard lock(mu_);
    free_.push_back(db);
  }
  cv_.notify_one();
}

ReadPool::Snapshot::Snapshot(Database& db) : db_(db), open_(false) {
  if (db_.InTransaction()) return;
  Status s = db_.Exec("BEGIN");
  open_ = s.ok();
  if (!open_) spdlog::warn("storage: read transaction not started error={}", s.ToString());
}

ReadPool::Snapshot::~Snapshot() {
  db_.ResetAllStatements();
  if (!open_ || !db_.InTransaction()) return;
  Status s = db_.Exec("COMMIT");
  if (!s.ok()) {
    spdlog::warn("storage: ending read transaction failed error={}", s.ToString());
    (void)db_.Exec("ROLLBACK");
  }
}

}  // namespace kefu::storage
