#include "storage/database.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace kefu::storage {
namespace {

std::unique_ptr<Database> OpenOrDie(const std::string& path) {
  DatabaseOptions options;
  options.path = path;
  auto db = Database::Open(options);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return std::move(db).value();
}

std::string Pragma(Database& db, const std::string& name) {
  auto stmt = db.Prepare("PRAGMA " + name);
  EXPECT_TRUE(stmt.ok()) << stmt.status().ToString();
  auto row = (*stmt)->Step();
  EXPECT_TRUE(row.ok() && *row);
  return (*stmt)->ColumnText(0);
}

TEST(Database, OpenSetsWalForeignKeysBusyTimeoutFullSyncAndMemoryTempStore) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  EXPECT_EQ(Pragma(*db, "journal_mode"), "wal");
  EXPECT_EQ(Pragma(*db, "foreign_keys"), "1");
  EXPECT_EQ(Pragma(*db, "busy_timeout"), "5000");
  EXPECT_EQ(Pragma(*db, "synchronous"), "2");  // FULL
  EXPECT_EQ(Pragma(*db, "temp_store"), "2");   // MEMORY
}

TEST(Database, SynchronousNormalIsApplied) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("kefu.db");
  options.synchronous = DatabaseOptions::Synchronous::kNormal;
  options.busy_timeout_ms = 1234;
  auto db = Database::Open(options);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(Pragma(**db, "synchronous"), "1");
  EXPECT_EQ(Pragma(**db, "busy_timeout"), "1234");
}

TEST(Database, BindStepAndColumnsRoundTripAllTypes) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  ASSERT_TRUE(db->Exec("CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)").ok());
  auto insert = db->Prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)");
  ASSERT_TRUE(insert.ok());
  Statement* st = *insert;
  st->Bind(1, 42);  // result may be ignored: a failed Bind is reported by Run()
  ASSERT_TRUE(st->Bind(2, 2.5).ok());
  ASSERT_TRUE(st->Bind(3, std::string("你好")).ok());
  ASSERT_TRUE(st->BindBlob(4, std::string_view("\0x\0", 3)).ok());
  ASSERT_TRUE(st->Bind(5, nullptr).ok());
  ASSERT_TRUE(st->Run().ok());
  EXPECT_EQ(db->Changes(), 1);
  EXPECT_EQ(db->LastInsertRowId(), 1);

  auto select = db->Prepare("SELECT i, d, s, b, n FROM t");
  ASSERT_TRUE(select.ok());
  auto row = (*select)->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ((*select)->ColumnInt64(0), 42);
  EXPECT_DOUBLE_EQ((*select)->ColumnDouble(1), 2.5);
  EXPECT_EQ((*select)->ColumnText(2), "你好");
  EXPECT_EQ((*select)->ColumnBlob(3), std::string("\0x\0", 3));
  EXPECT_TRUE((*select)->ColumnIsNull(4));
  EXPECT_FALSE((*select)->ColumnIsNull(0));
  EXPECT_EQ((*select)->ColumnOptionalText(4), std::nullopt);
  auto done = (*select)->Step();
  ASSERT_TRUE(done.ok());
  EXPECT_FALSE(*done);
}

TEST(Database, PrepareReturnsTheCachedStatementResetWithBindingsCleared) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  auto first = db->Prepare("SELECT ?1");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Bind(1, 7).ok());
  ASSERT_TRUE((*first)->Step().ok());
  auto second = db->Prepare("SELECT ?1");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
  auto row = (*second)->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_TRUE((*second)->ColumnIsNull(0));
}

TEST(Database, BindAllBindsInOrderIncludingOptionalsAndIds) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  auto st = db->Prepare("SELECT ?1, ?2, ?3, ?4");
  ASSERT_TRUE(st.ok());
  std::optional<int64_t> none;
  ASSERT_TRUE((*st)->BindAll(TicketId(9), "x", none, size_t{3}).ok());
  auto row = (*st)->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ((*st)->ColumnInt64(0), 9);
  EXPECT_EQ((*st)->ColumnText(1), "x");
  EXPECT_TRUE((*st)->ColumnIsNull(2));
  EXPECT_EQ((*st)->ColumnInt64(3), 3);
}

TEST(Database, IgnoredBindErrorIsReturnedByStep) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  auto st = db->Prepare("SELECT ?1");
  ASSERT_TRUE(st.ok());
  BindStatus bad = (*st)->Bind(5, 1);
  EXPECT_FALSE(bad.ok());
  auto row = (*st)->Step();
  ASSERT_FALSE(row.ok());
  EXPECT_NE(row.status().message().find("bind parameter 5"), std::string::npos);
}

TEST(Database, UniqueViolationIsAlreadyExistsAndStatementStaysUsable) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  ASSERT_TRUE(db->Exec("CREATE TABLE t (k TEXT PRIMARY KEY)").ok());
  auto st = db->Prepare("INSERT INTO t (k) VALUES (?1)");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE((*st)->Bind(1, "a").ok());
  ASSERT_TRUE((*st)->Run().ok());
  (*st)->Reset();
  ASSERT_TRUE((*st)->Bind(1, "a").ok());
  Status dup = (*st)->Run();
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists) << dup.ToString();
  (*st)->Reset();
  ASSERT_TRUE((*st)->Bind(1, "b").ok());
  EXPECT_TRUE((*st)->Run().ok());
}

TEST(Database, ForeignKeysAreEnforced) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  ASSERT_TRUE(db->Exec("CREATE TABLE p (id INTEGER PRIMARY KEY);"
                       "CREATE TABLE c (pid INTEGER NOT NULL REFERENCES p(id))")
                  .ok());
  Status s = db->Exec("INSERT INTO c (pid) VALUES (99)");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
}

TEST(Database, PrepareOfBadSqlNamesTheStatement) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  auto st = db->Prepare("SELEC 1");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("SELEC 1"), std::string::npos);
}

TEST(Database, OpenInMissingDirectoryFailsWithClearMessage) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("no/such/dir/kefu.db");
  auto db = Database::Open(options);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(db.status().message().find("cannot open database"), std::string::npos);
  EXPECT_NE(db.status().message().find(options.path), std::string::npos);
}

TEST(Database, OpenBelowARegularFileFailsWithClearMessage) {
  testing::TempDir dir;
  {
    std::ofstream out(dir.File("plain.txt"));
    out << "x";
  }
  DatabaseOptions options;
  options.path = dir.File("plain.txt/kefu.db");
  auto db = Database::Open(options);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(db.status().message().find("cannot open database " + options.path), std::string::npos)
      << db.status().message();
}

TEST(Database, OpenOfUnreadableFileFailsWithClearMessage) {
  testing::TempDir dir;
  std::string path = dir.File("kefu.db");
  {
    DatabaseOptions options;
    options.path = path;
    ASSERT_TRUE(Database::Open(options).ok());
  }
  std::filesystem::permissions(path, std::filesystem::perms::none);
  if (::access(path.c_str(), R_OK) == 0)
    GTEST_SKIP() << "running as root: permissions not enforced";
  DatabaseOptions options;
  options.path = path;
  auto db = Database::Open(options);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(db.status().message().find(path), std::string::npos) << db.status().message();
}

TEST(Database, OpenOfNonDatabaseFileIsDataLossNamingTheFile) {
  testing::TempDir dir;
  std::string path = dir.File("junk.db");
  {
    std::ofstream out(path);
    for (int i = 0; i < 200; ++i)
      out << "this is not a database at all\n";
  }
  DatabaseOptions options;
  options.path = path;
  auto db = Database::Open(options);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kDataLoss) << db.status().ToString();
  EXPECT_NE(db.status().message().find("not a SQLite database"), std::string::npos);
  EXPECT_NE(db.status().message().find(path), std::string::npos);
}

TEST(Database, OpenOfDirectoryFails) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.path = dir.path().string();
  auto db = Database::Open(options);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("directory"), std::string::npos);
}

TEST(Database, ReadOnlyOpenOfMissingFileFailsAndCreatesNothing) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("missing.db");
  options.read_only = true;
  auto db = Database::Open(options);
  ASSERT_FALSE(db.ok());
  EXPECT_FALSE(std::filesystem::exists(options.path));
}

TEST(Database, ConnectionInitializersRunAndTheirErrorFailsOpen) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("kefu.db");
  int calls = 0;
  options.connection_initializers.push_back([&calls](sqlite3* db) {
    ++calls;
    return sqlite3_create_function(
               db, "kefu_answer", 0, SQLITE_UTF8, nullptr,
               [](sqlite3_context* ctx, int, sqlite3_value**) { sqlite3_result_int(ctx, 42); },
               nullptr, nullptr) == SQLITE_OK
               ? Status::Ok()
               : Internal("create_function");
  });
  auto db = Database::Open(options);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(Pragma(**db, "user_version"), "0");
  auto st = (*db)->Prepare("SELECT kefu_answer()");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(*(*st)->Step());
  EXPECT_EQ((*st)->ColumnInt64(0), 42);

  options.connection_initializers.push_back(
      [](sqlite3*) { return Internal("tokenizer registration failed"); });
  auto failing = Database::Open(options);
  ASSERT_FALSE(failing.ok());
  EXPECT_EQ(failing.status().message(), "tokenizer registration failed");
}

TEST(Database, QuickCheckFailureOnOpenIsDataLoss) {
  testing::TempDir dir;
  std::string path = dir.File("kefu.db");
  {
    DatabaseOptions options;
    options.path = path;
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA journal_mode = DELETE").ok());
    ASSERT_TRUE((*db)->Exec("CREATE TABLE t (k TEXT); CREATE INDEX t_k ON t(k)").ok());
    Transaction tx(**db);
    for (int i = 0; i < 2000; ++i) {
      auto st = (*db)->Prepare("INSERT INTO t (k) VALUES (?1)");
      ASSERT_TRUE((*st)->Bind(1, "value-" + std::to_string(i)).ok());
      ASSERT_TRUE((*st)->Run().ok());
    }
    ASSERT_TRUE(tx.Commit().ok());
  }
  // Overwrite a page in the middle of the file with garbage.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096 * 5 + 100);
    std::string garbage(2000, '\x5a');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  DatabaseOptions options;
  options.path = path;
  auto db = Database::Open(options);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kDataLoss) << db.status().ToString();
  EXPECT_NE(db.status().message().find(path), std::string::npos);
}

TEST(Transaction, CommitKeepsWorkAndDestructorRollsBack) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  ASSERT_TRUE(db->Exec("CREATE TABLE t (k INTEGER)").ok());
  {
    Transaction tx(*db);
    ASSERT_TRUE(tx.begin_status().ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1)").ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  {
    Transaction tx(*db);
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (2)").ok());
  }
  EXPECT_FALSE(db->InTransaction());
  auto st = db->Prepare("SELECT group_concat(k) FROM t");
  ASSERT_TRUE(*(*st)->Step());
  EXPECT_EQ((*st)->ColumnText(0), "1");
}

TEST(Transaction, NestsAsSavepointInsideAnOpenTransaction) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  ASSERT_TRUE(db->Exec("CREATE TABLE t (k INTEGER)").ok());
  Transaction outer(*db);
  ASSERT_TRUE(outer.begin_status().ok());
  ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1)").ok());
  {
    Transaction inner(*db);
    ASSERT_TRUE(inner.begin_status().ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (2)").ok());
  }  // inner rolled back only
  {
    Transaction inner(*db);
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (3)").ok());
    ASSERT_TRUE(inner.Commit().ok());
  }
  ASSERT_TRUE(db->InTransaction());
  ASSERT_TRUE(outer.Commit().ok());
  auto st = db->Prepare("SELECT group_concat(k) FROM t");
  ASSERT_TRUE(*(*st)->Step());
  EXPECT_EQ((*st)->ColumnText(0), "1,3");
}

TEST(Transaction, SecondCommitIsFailedPrecondition) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  Transaction tx(*db);
  ASSERT_TRUE(tx.Commit().ok());
  EXPECT_EQ(tx.Commit().code(), StatusCode::kFailedPrecondition);
}

TEST(Transaction, BeginImmediateFailsWithUnavailableWhileAnotherConnectionWrites) {
  testing::TempDir dir;
  std::string path = dir.File("kefu.db");
  DatabaseOptions options;
  options.path = path;
  options.busy_timeout_ms = 50;
  auto a = Database::Open(options);
  auto b = Database::Open(options);
  ASSERT_TRUE(a.ok() && b.ok());
  Transaction holder(**a);
  ASSERT_TRUE(holder.begin_status().ok());
  Transaction blocked(**b);
  EXPECT_EQ(blocked.begin_status().code(), StatusCode::kUnavailable)
      << blocked.begin_status().ToString();
  EXPECT_EQ(blocked.Commit().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace kefu::storage
