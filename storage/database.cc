#include "storage/database.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>
#include <utility>

namespace kefu::storage {
namespace {

std::string SqliteMessage(sqlite3* db, int rc) {
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : nullptr;
  return msg != nullptr ? std::string(msg) : std::string(sqlite3_errstr(rc));
}

StatusCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return StatusCode::kAlreadyExists;
      }
      return StatusCode::kFailedPrecondition;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_FULL:
    case SQLITE_IOERR:
      return StatusCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return StatusCode::kDataLoss;
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
      return StatusCode::kInvalidArgument;
    default:
      return StatusCode::kInternal;
  }
}

const char* SynchronousName(DatabaseOptions::Synchronous s) {
  switch (s) {
    case DatabaseOptions::Synchronous::kOff:
      return "OFF";
    case DatabaseOptions::Synchronous::kNormal:
      return "NORMAL";
    case DatabaseOptions::Synchronous::kFull:
      return "FULL";
  }
  return "FULL";
}

}  // namespace

// ---- Statement ----

Statement::Statement(Database* db, sqlite3_stmt* stmt, std::string sql)
    : db_(db), stmt_(stmt), sql_(std::move(sql)) {}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

BindStatus Statement::CheckBind(int rc, int idx) {
  if (rc == SQLITE_OK) return BindStatus();
  BindStatus s(
      db_->ErrorStatus(rc, "bind parameter " + std::to_string(idx) + " of \"" + sql_ + "\""));
  if (bind_error_.ok()) bind_error_ = s;
  return s;
}

BindStatus Statement::BindInt64(int idx, int64_t value) {
  return CheckBind(sqlite3_bind_int64(stmt_, idx, value), idx);
}

BindStatus Statement::Bind(int idx, double value) {
  return CheckBind(sqlite3_bind_double(stmt_, idx, value), idx);
}

BindStatus Statement::Bind(int idx, std::string_view value) {
  return CheckBind(
      sqlite3_bind_text64(stmt_, idx, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      idx);
}

BindStatus Statement::Bind(int idx, std::nullptr_t) {
  return CheckBind(sqlite3_bind_null(stmt_, idx), idx);
}

BindStatus Statement::BindBlob(int idx, std::string_view bytes) {
  // A zero-length blob must still be a BLOB, not NULL: sqlite3_bind_blob64 with a null pointer
  // binds NULL, so pass a valid pointer.
  static const char kEmpty = 0;
  const void* data = bytes.empty() ? &kEmpty : bytes.data();
  return CheckBind(sqlite3_bind_blob64(stmt_, idx, data, bytes.size(), SQLITE_TRANSIENT), idx);
}

Result<bool> Statement::Step() {
  if (!bind_error_.ok()) return bind_error_;
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status s = db_->ErrorStatus(rc, "\"" + sql_ + "\"");
  // Leave the statement reusable (and release its locks) after an error.
  sqlite3_reset(stmt_);
  return s;
}

Status Statement::Run() {
  while (true) {
    KEFU_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = Status::Ok();
}

int Statement::ColumnCount() const {
  return sqlite3_column_count(stmt_);
}

int64_t Statement::ColumnInt64(int i) const {
  return sqlite3_column_int64(stmt_, i);
}

double Statement::ColumnDouble(int i) const {
  return sqlite3_column_double(stmt_, i);
}

std::string Statement::ColumnText(int i) const {
  const unsigned char* text = sqlite3_column_text(stmt_, i);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
}

std::string Statement::ColumnBlob(int i) const {
  const void* data = sqlite3_column_blob(stmt_, i);
  if (data == nullptr) return {};
  return std::string(static_cast<const char*>(data),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
}

bool Statement::ColumnIsNull(int i) const {
  return sqlite3_column_type(stmt_, i) == SQLITE_NULL;
}

std::optional<int64_t> Statement::ColumnOptionalInt64(int i) const {
  if (ColumnIsNull(i)) return std::nullopt;
  return ColumnInt64(i);
}

std::optional<std::string> Statement::ColumnOptionalText(int i) const {
  if (ColumnIsNull(i)) return std::nullopt;
  return ColumnText(i);
}

// ---- Database ----

Database::Database(sqlite3* db, DatabaseOptions options) : db_(db), options_(std::move(options)) {}

Database::~Database() {
  cache_.clear();  // finalize statements before closing
  int rc = sqlite3_close(db_);
  if (rc != SQLITE_OK) {
    spdlog::error("storage: closing database failed path={} error={}", options_.path,
                  sqlite3_errstr(rc));
  }
}

Result<std::unique_ptr<Database>> Database::Open(const DatabaseOptions& options) {
  if (options.path.empty()) return InvalidArgument("storage: database path must not be empty");
  if (options.busy_timeout_ms < 0) {
    return InvalidArgument("storage: busy_timeout_ms must not be negative");
  }
  std::error_code ec;
  if (std::filesystem::is_directory(options.path, ec)) {
    return Unavailable("cannot open database " + options.path + ": it is a directory");
  }
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  flags |= options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(options.path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = SqliteMessage(raw, rc);
    sqlite3_close(raw);
    return Unavailable("cannot open database " + options.path + ": " + msg);
  }
  std::unique_ptr<Database> db(new Database(raw, options));
  KEFU_RETURN_IF_ERROR(db->Configure());
  return db;
}

Status Database::Configure() {
  sqlite3_extended_result_codes(db_, 1);
  int rc = sqlite3_busy_timeout(db_, options_.busy_timeout_ms);
  if (rc != SQLITE_OK) return ErrorStatus(rc, "busy_timeout");
  // The first statement reads the header: a file that is not a database fails here.
  Status s = Exec("PRAGMA foreign_keys = ON");
  if (s.ok()) s = Exec("SELECT count(*) FROM sqlite_master");
  if (!s.ok()) {
    if (s.code() == StatusCode::kDataLoss) {
      return DataLoss(options_.path + " is not a SQLite database (or is corrupt): " + s.message());
    }
    return Status(s.code(), "cannot open database " + options_.path + ": " + s.message());
  }
  if (!options_.read_only) {
    KEFU_RETURN_IF_ERROR(Exec("PRAGMA journal_mode = WAL"));
  }
  KEFU_RETURN_IF_ERROR(
      Exec(std::string("PRAGMA synchronous = ") + SynchronousName(options_.synchronous)));
  // Statement journals (one per WriterExecutor job's SAVEPOINT) and sort scratch stay in memory:
  // on disk they were gigabytes of temp-file writes per benchmark run. They hold at most one
  // transaction's page pre-images, and nothing in them needs to survive a crash.
  KEFU_RETURN_IF_ERROR(Exec("PRAGMA temp_store = MEMORY"));
  for (const auto& init : options_.connection_initializers) {
    if (!init) continue;
    KEFU_RETURN_IF_ERROR(init(db_));
  }
  if (!options_.read_only && options_.quick_check_on_open) {
    KEFU_ASSIGN_OR_RETURN(Statement * check, Prepare("PRAGMA quick_check"));
    std::string problems;
    int lines = 0;
    while (true) {
      Result<bool> row = check->Step();
      if (!row.ok()) {
        return DataLoss("quick_check failed on " + options_.path + ": " + row.status().message());
      }
      if (!*row) break;
      std::string line = check->ColumnText(0);
      if (line == "ok") continue;
      if (lines++ < 10) problems += (problems.empty() ? "" : "; ") + line;
    }
    check->Reset();
    if (lines > 0) {
      spdlog::error("storage: quick_check failed path={} problems={}", options_.path, lines);
      return DataLoss("quick_check failed on " + options_.path + ": " + problems);
    }
  }
  return Status::Ok();
}

Status Database::ErrorStatus(int rc, std::string_view context) {
  return Status(CodeFor(rc), "sqlite " + std::string(sqlite3_errstr(rc)) + " (" +
                                 SqliteMessage(db_, rc) + ") in " + std::string(context));
}

Status Database::Exec(std::string_view sql) {
  std::string owned(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, owned.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return Status(CodeFor(rc), "sqlite " + std::string(sqlite3_errstr(rc)) + " (" + msg + ") in \"" +
                                 owned + "\"");
}

Result<Statement*> Database::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  std::string key(sql);
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return ErrorStatus(rc, "prepare \"" + key + "\"");
  }
  if (stmt == nullptr) return InvalidArgument("storage: empty statement \"" + key + "\"");
  auto owned = std::unique_ptr<Statement>(new Statement(this, stmt, key));
  Statement* result = owned.get();
  cache_.emplace(std::move(key), std::move(owned));
  return result;
}

void Database::ResetAllStatements() {
  for (auto& [sql, stmt] : cache_) {
    if (sqlite3_stmt_busy(stmt->handle()) != 0) sqlite3_reset(stmt->handle());
  }
}

int64_t Database::LastInsertRowId() {
  return sqlite3_last_insert_rowid(db_);
}

int Database::Changes() {
  return sqlite3_changes(db_);
}

bool Database::InTransaction() {
  return sqlite3_get_autocommit(db_) == 0;
}

// ---- Transaction ----

namespace {
std::atomic<uint64_t> savepoint_counter{0};
}  // namespace

Transaction::Transaction(Database& db) : db_(db) {
  if (db_.InTransaction()) {
    nested_ = true;
    savepoint_ = "kefu_tx_" + std::to_string(savepoint_counter.fetch_add(1) + 1);
    begin_status_ = db_.Exec("SAVEPOINT " + savepoint_);
  } else {
    begin_status_ = db_.Exec("BEGIN IMMEDIATE");
  }
  open_ = begin_status_.ok();
}

Transaction::~Transaction() {
  Rollback();
}

Status Transaction::Commit() {
  if (!begin_status_.ok()) return begin_status_;
  if (!open_) return FailedPrecondition("storage: transaction already finished");
  Status s = db_.Exec(nested_ ? "RELEASE " + savepoint_ : std::string("COMMIT"));
  if (!s.ok()) {
    Rollback();
    return s;
  }
  open_ = false;
  return Status::Ok();
}

void Transaction::Rollback() {
  if (!open_) return;
  open_ = false;
  Status s;
  if (nested_) {
    s = db_.Exec("ROLLBACK TO " + savepoint_);
    if (s.ok()) s = db_.Exec("RELEASE " + savepoint_);
  } else if (db_.InTransaction()) {
    s = db_.Exec("ROLLBACK");
  }
  if (!s.ok()) spdlog::error("storage: rollback failed error={}", s.ToString());
}

}  // namespace kefu::storage
