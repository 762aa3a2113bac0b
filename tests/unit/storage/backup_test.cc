#include "storage/backup.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "storage/migrations.h"
#include "storage/read_pool.h"
#include "storage/writer_executor.h"
#include "tests/support/temp_dir.h"

namespace kefu::storage {
namespace {

const std::vector<Migration> kMigrations = {
    {1, "seq", "CREATE TABLE seq (n INTEGER PRIMARY KEY, payload TEXT NOT NULL)"}};

Result<int64_t> QueryInt(Database& db, std::string_view sql) {
  KEFU_ASSIGN_OR_RETURN(Statement * st, db.Prepare(sql));
  KEFU_ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return NotFound("no row");
  return st->ColumnInt64(0);
}

TEST(Backup, CopyTakenDuringConcurrentWritesIsAConsistentPrefix) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("kefu.db");
  prometheus::Registry registry;
  auto writer = WriterExecutor::Open(options, registry);
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->Run([](Database& db) { return db.Exec("SELECT 1"); }).ok());
  {
    auto migrate = Database::Open(options);
    ASSERT_TRUE(migrate.ok());
    ASSERT_TRUE(ApplyMigrations(**migrate, "bak", kMigrations).ok());
  }

  // Rows 1, 2, 3, ... each in its own acknowledged job, with a bulky payload so the database
  // spans many pages and the copy takes a while.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked{0};
  std::thread producer([&] {
    const std::string payload(2000, 'x');
    for (int64_t n = 1; !stop.load(); ++n) {
      Status s = (*writer)->Run([n, &payload](Database& db) -> Status {
        KEFU_ASSIGN_OR_RETURN(Statement * st,
                              db.Prepare("INSERT INTO seq (n, payload) VALUES (?1, ?2)"));
        KEFU_RETURN_IF_ERROR(st->BindAll(n, payload));
        return st->Run();
      });
      ASSERT_TRUE(s.ok()) << s.ToString();
      acked = n;
    }
  });
  while (acked.load() < 300)
    std::this_thread::yield();

  auto pool = ReadPool::Open(options, 1);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  const std::string out = dir.File("backup.db");
  int64_t acked_before = acked.load();
  Status backup = BackupTo(*(*pool)->Borrow(), out);
  int64_t acked_after = acked.load();
  stop = true;
  producer.join();
  ASSERT_TRUE(backup.ok()) << backup.ToString();
  EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));

  DatabaseOptions copy_options;
  copy_options.path = out;  // Open runs quick_check on a write connection
  auto copy = Database::Open(copy_options);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  auto count = QueryInt(**copy, "SELECT count(*) FROM seq");
  auto max = QueryInt(**copy, "SELECT COALESCE(MAX(n), 0) FROM seq");
  ASSERT_TRUE(count.ok() && max.ok());
  // A prefix: rows 1..max with no gaps, containing everything acknowledged before the backup
  // started and nothing beyond what had been acknowledged when it finished (+1 in flight).
  EXPECT_EQ(*count, *max);
  EXPECT_GE(*max, acked_before);
  EXPECT_LE(*max, acked_after + 1);
  EXPECT_EQ(*SchemaVersion(**copy, "bak"), 1);
  // The writer kept going meanwhile.
  (*writer)->Stop();
  auto live = Database::Open(options);
  ASSERT_TRUE(live.ok());
  EXPECT_GE(*QueryInt(**live, "SELECT count(*) FROM seq"), *max);
}

TEST(Backup, ReplacesAnExistingFileAndItsStaleWal) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("kefu.db");
  auto db = Database::Open(options);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(ApplyMigrations(**db, "bak", kMigrations).ok());
  ASSERT_TRUE((*db)->Exec("INSERT INTO seq VALUES (1, 'first')").ok());
  const std::string out = dir.File("backup.db");
  ASSERT_TRUE(BackupTo(**db, out).ok());
  ASSERT_TRUE((*db)->Exec("INSERT INTO seq VALUES (2, 'second')").ok());
  {
    std::ofstream stale(out + "-wal");
    stale << "stale";
  }
  ASSERT_TRUE(BackupTo(**db, out).ok());
  EXPECT_FALSE(std::filesystem::exists(out + "-wal"));
  DatabaseOptions copy_options;
  copy_options.path = out;
  auto copy = Database::Open(copy_options);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(*QueryInt(**copy, "SELECT count(*) FROM seq"), 2);
}

// The restore procedure of docs/storage.md: stop kefud, copy the backup over the database file,
// remove -wal/-shm, start. Rows written after the backup must be gone, the backup's rows back.
TEST(Backup, DocumentedRestoreBringsBackTheBackedUpState) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("kefu.db");
  const std::string out = dir.File("backup.db");
  prometheus::Registry registry;
  {
    auto writer = WriterExecutor::Open(options, registry);
    ASSERT_TRUE(writer.ok());
    auto migrate = Database::Open(options);
    ASSERT_TRUE(ApplyMigrations(**migrate, "bak", kMigrations).ok());
    ASSERT_TRUE((*writer)
                    ->Run([](Database& db) { return db.Exec("INSERT INTO seq VALUES (1, 'a')"); })
                    .ok());
    auto reader = Database::Open(options);
    ASSERT_TRUE(BackupTo(**reader, out).ok());
    ASSERT_TRUE((*writer)
                    ->Run([](Database& db) { return db.Exec("INSERT INTO seq VALUES (2, 'b')"); })
                    .ok());
  }  // "stop kefud"
  std::filesystem::copy_file(out, options.path, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(options.path + "-wal");
  std::filesystem::remove(options.path + "-shm");
  auto restored = Database::Open(options);  // "start": quick_check + migrations
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  ASSERT_TRUE(ApplyMigrations(**restored, "bak", kMigrations).ok());
  EXPECT_EQ(*QueryInt(**restored, "SELECT count(*) FROM seq"), 1);
  EXPECT_EQ(*QueryInt(**restored, "SELECT MAX(n) FROM seq"), 1);
}

TEST(Backup, UnwritableDestinationIsUnavailable) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("kefu.db");
  auto db = Database::Open(options);
  ASSERT_TRUE(db.ok());
  Status s = BackupTo(**db, dir.File("no/such/dir/backup.db"));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("no/such/dir"), std::string::npos);
}

TEST(Backup, RefusesToOverwriteTheSourceItself) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("kefu.db");
  auto db = Database::Open(options);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(BackupTo(**db, options.path).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BackupTo(**db, "").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kefu::storage
