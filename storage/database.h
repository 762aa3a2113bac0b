// SQLite primitives: Database (one connection), Statement (a prepared statement owned by its
// Database's cache) and Transaction (scoped BEGIN IMMEDIATE, rolled back unless committed).
//
// Threads: a Database and its Statements are used by one thread at a time (the writer thread, or
// the thread that borrowed it from a ReadPool). Nothing here is internally locked.
#pragma once

#include <sqlite3.h>

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/ids.h"
#include "core/result.h"
#include "core/status.h"

namespace kefu::storage {

struct DatabaseOptions {
  // File name of the database; created if missing (the directory must exist), unless read_only.
  std::string path;
  // PRAGMA synchronous. kFull: a COMMIT that returned is durable across power loss. kNormal (WAL):
  // durable across a process crash, the last commits may roll back on power loss.
  enum class Synchronous { kOff, kNormal, kFull } synchronous = Synchronous::kFull;
  // How long a statement waits for another connection's lock before failing with kUnavailable.
  int busy_timeout_ms = 5000;
  // Open with SQLITE_OPEN_READONLY (ReadPool connections, kefuctl inspection). Never creates.
  bool read_only = false;
  // Run PRAGMA quick_check when a write connection opens (read-only ones never check).
  bool quick_check_on_open = true;
  // Run, in order, on EVERY connection opened with these options (write and read), after the
  // pragmas. A non-ok Status fails the Open with that Status. Example: registering an FTS5
  // tokenizer.
  std::vector<std::function<Status(sqlite3*)>> connection_initializers;
};

// Returned by Statement::Bind. Behaves like a Status (convertible, ok(), message()) but may be
// ignored: a failed Bind is also remembered by the Statement and returned by the next Step()/Run().
class BindStatus : public Status {
 public:
  using Status::Status;
  BindStatus(Status s) : Status(std::move(s)) {}  // NOLINT: implicit by design
};

class Database;

// A prepared statement. Owned by the Database's statement cache (never delete it); valid until the
// Database is destroyed. Parameter indexes start at 1, column indexes at 0.
class Statement {
 public:
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  BindStatus Bind(int idx, double value);
  BindStatus Bind(int idx, std::string_view value);
  BindStatus Bind(int idx, const char* value) { return Bind(idx, std::string_view(value)); }
  BindStatus Bind(int idx, const std::string& value) { return Bind(idx, std::string_view(value)); }
  BindStatus Bind(int idx, std::nullptr_t);
  // Any integer type (int, int64_t, size_t, bool, ...) is bound as a 64-bit integer.
  template <std::integral T>
  BindStatus Bind(int idx, T value) {
    return BindInt64(idx, static_cast<int64_t>(value));
  }
  // Typed ids bind their value.
  template <typename Tag>
  BindStatus Bind(int idx, Id<Tag> id) {
    return BindInt64(idx, id.value());
  }
  // nullopt binds NULL.
  template <typename T>
  BindStatus Bind(int idx, const std::optional<T>& value) {
    if (!value) return Bind(idx, nullptr);
    return Bind(idx, *value);
  }
  BindStatus BindBlob(int idx, std::string_view bytes);
  // Binds each argument to parameters 1, 2, ...; the first failure is returned.
  template <typename... Args>
  Status BindAll(const Args&... args) {
    int idx = 0;
    Status result;
    ((result.ok() ? (void)(result = Bind(++idx, args)) : (void)0), ...);
    return result;
  }

  // Advances: true when a row is available, false when done. Errors: kAlreadyExists on a UNIQUE /
  // PRIMARY KEY violation, kFailedPrecondition on other constraint violations, kUnavailable when
  // the database stayed busy past the busy timeout, kDataLoss on corruption, kInternal otherwise
  // (the message names SQLite's error and the statement).
  Result<bool> Step();
  // Steps until done, discarding rows. Same errors as Step().
  Status Run();
  // Resets to run again and clears all bindings.
  void Reset();

  int ColumnCount() const;
  int64_t ColumnInt64(int i) const;
  int ColumnInt(int i) const { return static_cast<int>(ColumnInt64(i)); }
  double ColumnDouble(int i) const;
  // Text of the column ("" for NULL).
  std::string ColumnText(int i) const;
  // Bytes of a BLOB (or TEXT) column.
  std::string ColumnBlob(int i) const;
  bool ColumnIsNull(int i) const;
  // NULL -> nullopt.
  std::optional<int64_t> ColumnOptionalInt64(int i) const;
  std::optional<std::string> ColumnOptionalText(int i) const;

  const std::string& sql() const { return sql_; }
  sqlite3_stmt* handle() { return stmt_; }

 private:
  friend class Database;
  Statement(Database* db, sqlite3_stmt* stmt, std::string sql);
  BindStatus BindInt64(int idx, int64_t value);
  BindStatus CheckBind(int rc, int idx);

  Database* db_;
  sqlite3_stmt* stmt_;
  std::string sql_;
  Status bind_error_;
};

// One SQLite connection (RAII). Not copyable or movable; owned by a unique_ptr.
class Database {
 public:
  // Opens (creating if needed, unless read_only) the database, sets journal_mode=WAL (write
  // connections), synchronous, busy_timeout, foreign_keys=ON, runs the connection initializers and,
  // on write connections, PRAGMA quick_check.
  // Errors: kUnavailable "cannot open database <path>: ..." (missing/unreadable path or
  // directory), kDataLoss "<path> is not a SQLite database" / "quick_check failed on <path>: ...",
  // or the Status of a failing initializer.
  static Result<std::unique_ptr<Database>> Open(const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more ';'-separated statements without results (DDL, pragmas). Never use it with
  // values from outside: bind them through Prepare.
  Status Exec(std::string_view sql);
  // Returns the cached prepared statement for `sql` (preparing it on first use), reset and with its
  // bindings cleared. The pointer stays owned by this Database. The same sql returns the same
  // Statement, so do not Prepare a statement again while still stepping through its rows. The cache
  // is keyed by the SQL text and never shrinks: use fixed SQL with parameters, not generated text.
  // Errors: kInternal naming the SQLite error and the sql.
  Result<Statement*> Prepare(std::string_view sql);
  // Resets every cached statement (releases read snapshots held by half-stepped statements).
  void ResetAllStatements();

  sqlite3* handle() { return db_; }
  int64_t LastInsertRowId();
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int Changes();
  // True while a transaction (or savepoint) is open on this connection.
  bool InTransaction();
  const DatabaseOptions& options() const { return options_; }
  const std::string& path() const { return options_.path; }

  // SQLite error code -> Status, with `context` and SQLite's message. For adapters and tests.
  Status ErrorStatus(int rc, std::string_view context);

 private:
  Database(sqlite3* db, DatabaseOptions options);
  Status Configure();

  // Lets the cache be searched with a string_view, so a cached Prepare allocates nothing.
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
  };

  sqlite3* db_;
  DatabaseOptions options_;
  std::unordered_map<std::string, std::unique_ptr<Statement>, SqlHash, std::equal_to<>> cache_;
};

// Scoped write transaction. On a connection with no open transaction it runs BEGIN IMMEDIATE (takes
// the write lock at once, so SQLITE_BUSY surfaces here, not mid-way); when a transaction is already
// open (e.g. inside a WriterExecutor job) it nests as a SAVEPOINT. Commit() makes the work
// permanent (or releases the savepoint); destroying an uncommitted Transaction rolls its work back.
//
//   storage::Transaction tx(db);
//   KEFU_RETURN_IF_ERROR(...);        // early return rolls back
//   KEFU_RETURN_IF_ERROR(tx.Commit());
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Status of BEGIN / SAVEPOINT; Commit() also returns it.
  const Status& begin_status() const { return begin_status_; }
  // Errors: the BEGIN error, kFailedPrecondition if already committed/rolled back, or the COMMIT
  // error (after which the transaction has been rolled back).
  Status Commit();
  // Rolls back now (idempotent).
  void Rollback();

 private:
  Database& db_;
  Status begin_status_;
  bool nested_ = false;
  bool open_ = false;
  std::string savepoint_;
};

}  // namespace kefu::storage
