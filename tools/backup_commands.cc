// kefuctl backup OUT: consistent online copy of the database (SQLite backup API).
#include <memory>

#include "storage/backup.h"
#include "tools/command.h"

namespace kefu::tools {
namespace {

int Backup(CommandContext& ctx, const std::string& out_path) {
  auto db = ctx.ReadDatabase();
  if (!db.ok()) return ctx.Fail(db.status());
  if (Status s = storage::BackupTo(**db, out_path); !s.ok()) return ctx.Fail(s);
  if (ctx.json()) {
    ctx.PrintJson({{"source", (*db)->path()}, {"backup", out_path}});
  } else {
    ctx.out() << "backed up " << (*db)->path() << " to " << out_path << '\n';
  }
  return kExitOk;
}

}  // namespace

void RegisterBackupCommands(CLI::App& kefuctl, CommandContext& ctx) {
  auto out_path = std::make_shared<std::string>();
  CLI::App* backup = kefuctl.add_subcommand(
      "backup",
      "Copy the database to OUT while kefud runs (restore: stop kefud, copy OUT over "
      "<data_dir>/kefu.db, remove kefu.db-wal and kefu.db-shm, start kefud)");
  backup->add_option("OUT", *out_path, "Destination file")->required();
  backup->callback(
      [&ctx, out_path] { ctx.SetAction([&ctx, out_path] { return Backup(ctx, *out_path); }); });
}

}  // namespace kefu::tools
