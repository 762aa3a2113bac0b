// Opening the database the way kefud and kefuctl both need it: data_dir created, every module's
// connection initializers installed, every module's migrations applied in module order.
#pragma once

#include <memory>
#include <vector>

#include "app/config.h"
#include "app/module.h"
#include "core/result.h"
#include "storage/database.h"

namespace kefu::app {

// DatabaseOptions for `config` (path, synchronous, busy timeout) with each module's connection
// initializers. quick_check_on_open follows config.quick_check_on_start.
storage::DatabaseOptions MakeDatabaseOptions(const StorageConfig& config,
                                             const std::vector<std::unique_ptr<Module>>& modules);

// Creates data_dir if missing, opens a write connection with `options` and applies every module's
// migrations. Errors: kUnavailable "cannot create storage.data_dir <dir>: ..." or from Open;
// kDataLoss on a corrupt file; kFailedPrecondition when the schema is newer than this binary.
Result<std::unique_ptr<storage::Database>> OpenAndMigrate(
    const StorageConfig& config, const storage::DatabaseOptions& options,
    const std::vector<std::unique_ptr<Module>>& modules);

}  // namespace kefu::app
