// Online, consistent backups through SQLite's backup API.
#pragma once

#include <string>

#include "core/status.h"
#include "storage/database.h"

namespace kefu::storage {

// Copies the whole database behind `src` to `out_path` as one consistent snapshot (the state of one
// read transaction), while other connections keep writing (WAL: the writer is never blocked). The
// copy is written to "<out_path>.tmp", checked with PRAGMA quick_check and then renamed over
// out_path, so out_path is either the old file or a complete backup. `src` is used on the caller's
// thread: pass a connection the caller owns (a ReadPool connection or its own read-only Database),
// never the WriterExecutor's.
// Errors: kInvalidArgument for an empty out_path or out_path == src path; kUnavailable when the
// destination cannot be created; kDataLoss if the copy fails quick_check; kInternal otherwise.
Status BackupTo(Database& src, const std::string& out_path);

}  // namespace kefu::storage
