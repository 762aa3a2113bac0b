#include <chrono>

#include "app/config_sections.h"

namespace kefu::app {

void ReadStorageConfig(const ConfigSection& root, Config& config) {
  using std::chrono::milliseconds;
  using Sync = storage::DatabaseOptions::Synchronous;
  ConfigSection s = root.Table("storage");
  StorageConfig& c = config.storage;
  s.NonEmptyString("data_dir", c.data_dir);
  s.NonEmptyString("database_file", c.database_file);
  if (c.database_file.find('/') != std::string::npos) {
    s.Error("database_file", "must be a file name without '/', got \"" + c.database_file + "\"");
  }
  s.Enum("synchronous", c.synchronous,
         {{"off", Sync::kOff}, {"normal", Sync::kNormal}, {"full", Sync::kFull}});
  s.Duration("busy_timeout", c.busy_timeout, milliseconds(0), milliseconds(600'000));
  s.Int("read_connections", c.read_connections, 1, 64);
  s.Int("worker_threads", c.worker_threads, 1, 256);
  s.Bool("quick_check_on_start", c.quick_check_on_start);
}

}  // namespace kefu::app
