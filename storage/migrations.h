// Per-module numbered schema migrations.
//
// Each module owns its tables and a list of migrations numbered 1, 2, 3, ... The versions applied
// are recorded in the table schema_migrations(module, version, name, applied_at). A migration, once
// released, is never edited: changes go into a new, higher-numbered migration.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/status.h"
#include "storage/database.h"

namespace kefu::storage {

struct Migration {
  int version;       // 1, 2, 3, ... consecutive within a module
  std::string name;  // short description, recorded in schema_migrations
  std::string sql;   // one or more ';'-separated statements
};

// Brings `module`'s schema up to the highest version in `migrations`. Idempotent: versions already
// recorded are skipped. Each pending migration runs in its own transaction together with its
// schema_migrations row, so a failing migration leaves the schema at the previous version. Safe
// against another process migrating at the same time (the version is re-read under the write lock).
// Runs on the write connection; must not be called inside an open transaction.
// Errors: kInvalidArgument if versions are not 1..N in order or the module name is empty;
// kFailedPrecondition "schema of module 'x' is at version 5 but this binary knows only up to 3"
// when the database is newer than the binary; the SQLite error (naming module, version and name)
// when a migration fails.
Status ApplyMigrations(Database& db, std::string_view module,
                       const std::vector<Migration>& migrations);

// The highest version recorded for `module` (0 if none or if schema_migrations does not exist).
Result<int> SchemaVersion(Database& db, std::string_view module);

}  // namespace kefu::storage
