#include "storage/migrations.h"

#include <spdlog/spdlog.h>

#include <string>

namespace kefu::storage {
namespace {

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " module TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " applied_at TEXT NOT NULL,"
    " PRIMARY KEY (module, version))";
constexpr std::string_view kTableExists =
    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
constexpr std::string_view kMaxVersion =
    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations WHERE module = ?1";
constexpr std::string_view kInsert =
    "INSERT INTO schema_migrations (module, version, name, applied_at)"
    " VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))";

Status Validate(std::string_view module, const std::vector<Migration>& migrations) {
  if (module.empty()) return InvalidArgument("storage: migration module name must not be empty");
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return InvalidArgument("storage: migrations of module '" + std::string(module) +
                             "' must be numbered 1..N in order; entry " + std::to_string(i) +
                             " has version " + std::to_string(migrations[i].version));
    }
  }
  return Status::Ok();
}

Status TooNew(std::string_view module, int stored, int known) {
  return FailedPrecondition("storage: schema of module '" + std::string(module) +
                            "' is at version " + std::to_string(stored) +
                            " but this binary knows only up to version " + std::to_string(known) +
                            "; run a newer kefu or restore a backup made by this version");
}

}  // namespace

Result<int> SchemaVersion(Database& db, std::string_view module) {
  KEFU_ASSIGN_OR_RETURN(Statement * exists, db.Prepare(kTableExists));
  KEFU_ASSIGN_OR_RETURN(bool has_table, exists->Step());
  exists->Reset();
  if (!has_table) return 0;
  KEFU_ASSIGN_OR_RETURN(Statement * max, db.Prepare(kMaxVersion));
  KEFU_RETURN_IF_ERROR(max->Bind(1, module));
  KEFU_ASSIGN_OR_RETURN(bool row, max->Step());
  int version = row ? max->ColumnInt(0) : 0;
  max->Reset();
  return version;
}

Status ApplyMigrations(Database& db, std::string_view module,
                       const std::vector<Migration>& migrations) {
  KEFU_RETURN_IF_ERROR(Validate(module, migrations));
  if (db.InTransaction()) {
    return FailedPrecondition("storage: ApplyMigrations for module '" + std::string(module) +
                              "' called inside an open transaction");
  }
  const int known = static_cast<int>(migrations.size());
  {
    Transaction tx(db);
    KEFU_RETURN_IF_ERROR(tx.begin_status());
    KEFU_RETURN_IF_ERROR(db.Exec(kCreateTable));
    KEFU_RETURN_IF_ERROR(tx.Commit());
  }
  // Cheap check without the write lock first: an up-to-date database needs no write at all.
  KEFU_ASSIGN_OR_RETURN(int current, SchemaVersion(db, module));
  if (current > known) return TooNew(module, current, known);
  if (current == known) return Status::Ok();

  for (const Migration& m : migrations) {
    Transaction tx(db);
    KEFU_RETURN_IF_ERROR(tx.begin_status());
    // Re-read under the write lock: another process may have migrated meanwhile.
    KEFU_ASSIGN_OR_RETURN(current, SchemaVersion(db, module));
    if (current > known) return TooNew(module, current, known);
    if (m.version <= current) continue;
    Status s = db.Exec(m.sql);
    if (!s.ok()) {
      return Status(s.code(), "storage: migration " + std::string(module) + "/" +
                                  std::to_string(m.version) + " (" + m.name +
                                  ") failed: " + s.message());
    }
    KEFU_ASSIGN_OR_RETURN(Statement * insert, db.Prepare(kInsert));
    KEFU_RETURN_IF_ERROR(insert->BindAll(module, m.version, m.name));
    KEFU_RETURN_IF_ERROR(insert->Run());
    KEFU_RETURN_IF_ERROR(tx.Commit());
    spdlog::info("storage: migration applied module={} version={} name={}", module, m.version,
                 m.name);
  }
  return Status::Ok();
}

}  // namespace kefu::storage
