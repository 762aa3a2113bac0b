#include "app/database_setup.h"

#include <filesystem>
#include <system_error>

namespace kefu::app {

storage::DatabaseOptions MakeDatabaseOptions(const StorageConfig& config,
                                             const std::vector<std::unique_ptr<Module>>& modules) {
  storage::DatabaseOptions options;
  options.path = config.DatabasePath();
  options.synchronous = config.synchronous;
  options.busy_timeout_ms = static_cast<int>(config.busy_timeout.count());
  options.quick_check_on_open = config.quick_check_on_start;
  for (const auto& module : modules)
    module->ConfigureDatabase(options);
  return options;
}

Result<std::unique_ptr<storage::Database>> OpenAndMigrate(
    const StorageConfig& config, const storage::DatabaseOptions& options,
    const std::vector<std::unique_ptr<Module>>& modules) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return Unavailable("cannot create storage.data_dir " + config.data_dir + ": " + ec.message());
  }
  KEFU_ASSIGN_OR_RETURN(std::unique_ptr<storage::Database> db, storage::Database::Open(options));
  for (const auto& module : modules) {
    std::vector<storage::Migration> migrations = module->Migrations();
    if (migrations.empty()) continue;
    KEFU_RETURN_IF_ERROR(storage::ApplyMigrations(*db, module->name(), migrations));
  }
  return db;
}

}  // namespace kefu::app
