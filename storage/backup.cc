#include "storage/backup.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <system_error>

namespace kefu::storage {
namespace {

// Closes the destination connection on every path out of BackupTo.
struct DestCloser {
  sqlite3* db = nullptr;
  ~DestCloser() {
    if (db != nullptr) sqlite3_close(db);
  }
};

void RemoveTemp(const std::string& tmp) {
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  std::filesystem::remove(tmp + "-journal", ec);
  std::filesystem::remove(tmp + "-wal", ec);
  std::filesystem::remove(tmp + "-shm", ec);
}

}  // namespace

Status BackupTo(Database& src, const std::string& out_path) {
  if (out_path.empty()) return InvalidArgument("storage: backup output path must not be empty");
  std::error_code ec;
  if (std::filesystem::exists(out_path, ec) && std::filesystem::exists(src.path(), ec) &&
      std::filesystem::equivalent(out_path, src.path(), ec)) {
    return InvalidArgument("storage: backup output " + out_path + " is the database itself");
  }
  const std::string tmp = out_path + ".tmp";
  RemoveTemp(tmp);

  DestCloser dest;
  int rc =
      sqlite3_open_v2(tmp.c_str(), &dest.db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = dest.db != nullptr ? sqlite3_errmsg(dest.db) : sqlite3_errstr(rc);
    return Unavailable("storage: cannot create backup file " + tmp + ": " + msg);
  }
  sqlite3_backup* backup = sqlite3_backup_init(dest.db, "main", src.handle(), "main");
  if (backup == nullptr) {
    Status s = Internal("storage: backup init failed: " + std::string(sqlite3_errmsg(dest.db)));
    RemoveTemp(tmp);
    return s;
  }
  // One step over all pages: the copy is read inside a single read transaction on src, which is a
  // consistent snapshot; in WAL mode writers on other connections go on meanwhile.
  rc = sqlite3_backup_step(backup, -1);
  int finish_rc = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE || finish_rc != SQLITE_OK) {
    int err = rc != SQLITE_DONE ? rc : finish_rc;
    Status s((err & 0xff) == SQLITE_BUSY || (err & 0xff) == SQLITE_LOCKED ? StatusCode::kUnavailable
                                                                          : StatusCode::kInternal,
             "storage: backup of " + src.path() + " failed: " + sqlite3_errstr(err));
    RemoveTemp(tmp);
    return s;
  }

  // Verify the copy before it replaces anything.
  std::string problems;
  sqlite3_stmt* check = nullptr;
  rc = sqlite3_prepare_v2(dest.db, "PRAGMA quick_check", -1, &check, nullptr);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(check)) == SQLITE_ROW) {
      const unsigned char* line = sqlite3_column_text(check, 0);
      std::string text = line != nullptr ? reinterpret_cast<const char*>(line) : "";
      if (text != "ok") problems += (problems.empty() ? "" : "; ") + text;
    }
  }
  sqlite3_finalize(check);
  if (rc != SQLITE_DONE || !problems.empty()) {
    RemoveTemp(tmp);
    return DataLoss("storage: backup copy failed quick_check: " +
                    (problems.empty() ? std::string(sqlite3_errstr(rc)) : problems));
  }
  rc = sqlite3_close(dest.db);
  dest.db = nullptr;
  if (rc != SQLITE_OK) {
    RemoveTemp(tmp);
    return Internal("storage: closing backup file failed: " + std::string(sqlite3_errstr(rc)));
  }
  std::filesystem::rename(tmp, out_path, ec);
  if (ec) {
    RemoveTemp(tmp);
    return Unavailable("storage: cannot move backup to " + out_path + ": " + ec.message());
  }
  // A stale WAL next to an old file of the same name would be replayed into the new copy.
  std::filesystem::remove(out_path + "-wal", ec);
  std::filesystem::remove(out_path + "-shm", ec);
  spdlog::info("storage: backup written src={} out={}", src.path(), out_path);
  return Status::Ok();
}

}  // namespace kefu::storage
