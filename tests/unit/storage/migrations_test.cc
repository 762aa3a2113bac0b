#include "storage/migrations.h"

#include <gtest/gtest.h>

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

std::vector<Migration> TicketMigrations() {
  return {
      {1, "create tickets", "CREATE TABLE tickets (id INTEGER PRIMARY KEY, title TEXT NOT NULL)"},
      {2, "add state", "ALTER TABLE tickets ADD COLUMN state TEXT NOT NULL DEFAULT 'open'"},
  };
}

int64_t Count(Database& db, const std::string& sql) {
  auto st = db.Prepare(sql);
  EXPECT_TRUE(st.ok()) << st.status().ToString();
  auto row = (*st)->Step();
  EXPECT_TRUE(row.ok() && *row);
  return (*st)->ColumnInt64(0);
}

TEST(Migrations, FreshDatabaseReportsVersionZero) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  auto v = SchemaVersion(*db, "ticketing");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 0);
}

TEST(Migrations, AppliesAllInOrderAndRecordsThem) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  ASSERT_TRUE(ApplyMigrations(*db, "ticketing", TicketMigrations()).ok());
  EXPECT_EQ(*SchemaVersion(*db, "ticketing"), 2);
  ASSERT_TRUE(db->Exec("INSERT INTO tickets (title) VALUES ('x')").ok());
  EXPECT_EQ(Count(*db, "SELECT count(*) FROM tickets WHERE state = 'open'"), 1);
  EXPECT_EQ(Count(*db,
                  "SELECT count(*) FROM schema_migrations WHERE module = 'ticketing' AND "
                  "name = 'add state' AND applied_at LIKE '20%Z'"),
            1);
}

TEST(Migrations, SecondRunIsANoOp) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  ASSERT_TRUE(ApplyMigrations(*db, "ticketing", TicketMigrations()).ok());
  Status again = ApplyMigrations(*db, "ticketing", TicketMigrations());
  EXPECT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(Count(*db, "SELECT count(*) FROM schema_migrations"), 2);
}

TEST(Migrations, OnlyNewMigrationsRunAfterAnUpgrade) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  auto v1 = TicketMigrations();
  v1.pop_back();
  ASSERT_TRUE(ApplyMigrations(*db, "ticketing", v1).ok());
  ASSERT_TRUE(db->Exec("INSERT INTO tickets (title) VALUES ('kept')").ok());
  EXPECT_EQ(*SchemaVersion(*db, "ticketing"), 1);
  ASSERT_TRUE(ApplyMigrations(*db, "ticketing", TicketMigrations()).ok());
  EXPECT_EQ(*SchemaVersion(*db, "ticketing"), 2);
  EXPECT_EQ(Count(*db, "SELECT count(*) FROM tickets WHERE title = 'kept'"), 1);
}

TEST(Migrations, ModulesAreVersionedIndependently) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  ASSERT_TRUE(ApplyMigrations(*db, "ticketing", TicketMigrations()).ok());
  ASSERT_TRUE(
      ApplyMigrations(*db, "knowledge", {{1, "faqs", "CREATE TABLE faqs (id INTEGER)"}}).ok());
  EXPECT_EQ(*SchemaVersion(*db, "ticketing"), 2);
  EXPECT_EQ(*SchemaVersion(*db, "knowledge"), 1);
  EXPECT_EQ(*SchemaVersion(*db, "channels"), 0);
}

TEST(Migrations, NewerSchemaThanBinaryIsRefusedNamingModuleAndVersions) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  ASSERT_TRUE(ApplyMigrations(*db, "ticketing", TicketMigrations()).ok());
  auto old_binary = TicketMigrations();
  old_binary.pop_back();
  Status s = ApplyMigrations(*db, "ticketing", old_binary);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("'ticketing'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("version 2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("up to version 1"), std::string::npos) << s.message();
}

TEST(Migrations, FailingMigrationRollsBackItselfAndKeepsEarlierOnes) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  auto migrations = TicketMigrations();
  migrations.push_back(
      {3, "broken", "CREATE TABLE half_done (x INTEGER); INSERT INTO no_such_table VALUES (1)"});
  Status s = ApplyMigrations(*db, "ticketing", migrations);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("ticketing/3 (broken)"), std::string::npos) << s.message();
  EXPECT_EQ(*SchemaVersion(*db, "ticketing"), 2);
  EXPECT_EQ(Count(*db, "SELECT count(*) FROM sqlite_master WHERE name = 'half_done'"), 0);
  EXPECT_FALSE(db->InTransaction());
}

TEST(Migrations, VersionsMustBeNumberedFromOneInOrder) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  Status gap = ApplyMigrations(*db, "m", {{1, "a", "SELECT 1"}, {3, "c", "SELECT 1"}});
  EXPECT_EQ(gap.code(), StatusCode::kInvalidArgument);
  Status empty_name = ApplyMigrations(*db, "", {{1, "a", "SELECT 1"}});
  EXPECT_EQ(empty_name.code(), StatusCode::kInvalidArgument);
}

TEST(Migrations, TwoConnectionsMigratingConcurrentlyApplyEachVersionOnce) {
  testing::TempDir dir;
  std::string path = dir.File("kefu.db");
  auto a = OpenOrDie(path);
  auto b = OpenOrDie(path);
  std::vector<Migration> migrations;
  for (int v = 1; v <= 20; ++v) {
    std::string table = "t";
    table += std::to_string(v);
    std::string sql = "CREATE TABLE ";
    sql += table;
    sql += " (x INTEGER)";
    migrations.push_back({v, table, sql});
  }
  Status sa, sb;
  std::thread ta([&] { sa = ApplyMigrations(*a, "m", migrations); });
  std::thread tb([&] { sb = ApplyMigrations(*b, "m", migrations); });
  ta.join();
  tb.join();
  EXPECT_TRUE(sa.ok()) << sa.ToString();
  EXPECT_TRUE(sb.ok()) << sb.ToString();
  EXPECT_EQ(Count(*a, "SELECT count(*) FROM schema_migrations WHERE module = 'm'"), 20);
}

TEST(Migrations, RefusedInsideAnOpenTransaction) {
  testing::TempDir dir;
  auto db = OpenOrDie(dir.File("kefu.db"));
  Transaction tx(*db);
  EXPECT_EQ(ApplyMigrations(*db, "ticketing", TicketMigrations()).code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace kefu::storage
