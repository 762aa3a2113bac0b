#include "storage/read_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "storage/migrations.h"
#include "tests/support/temp_dir.h"

namespace kefu::storage {
namespace {

class ReadPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.path = dir_.File("kefu.db");
    auto db = Database::Open(options_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    writer_ = std::move(db).value();
    ASSERT_TRUE(
        ApplyMigrations(*writer_, "t", {{1, "kv", "CREATE TABLE kv (k INTEGER, v TEXT)"}}).ok());
  }

  int64_t CountRows(ReadPool& pool) {
    return pool.Read([](Database& db) -> int64_t {
      auto st = db.Prepare("SELECT count(*) FROM kv");
      if (!st.ok()) return -1;
      auto row = (*st)->Step();
      return row.ok() && *row ? (*st)->ColumnInt64(0) : -1;
    });
  }

  testing::TempDir dir_;
  DatabaseOptions options_;
  std::unique_ptr<Database> writer_;
};

TEST_F(ReadPoolTest, ReadsSeeCommittedWrites) {
  auto pool = ReadPool::Open(options_, 2);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  EXPECT_EQ(CountRows(**pool), 0);
  ASSERT_TRUE(writer_->Exec("INSERT INTO kv VALUES (1, 'a')").ok());
  EXPECT_EQ(CountRows(**pool), 1);
}

TEST_F(ReadPoolTest, ConnectionsAreReadOnly) {
  auto pool = ReadPool::Open(options_, 1);
  ASSERT_TRUE(pool.ok());
  Status s = (*pool)->Read([](Database& db) { return db.Exec("INSERT INTO kv VALUES (1, 'a')"); });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(CountRows(**pool), 0);
}

TEST_F(ReadPoolTest, ReadSeesOneSnapshotWhileTheWriterCommits) {
  auto pool = ReadPool::Open(options_, 1);
  ASSERT_TRUE(pool.ok());
  auto [before, after] = (*pool)->Read([&](Database& db) {
    auto st = db.Prepare("SELECT count(*) FROM kv");
    (void)(*st)->Step();
    int64_t first = (*st)->ColumnInt64(0);
    EXPECT_TRUE(writer_->Exec("INSERT INTO kv VALUES (1, 'a')").ok());
    st = db.Prepare("SELECT count(*) FROM kv");
    (void)(*st)->Step();
    return std::pair<int64_t, int64_t>(first, (*st)->ColumnInt64(0));
  });
  EXPECT_EQ(before, 0);
  EXPECT_EQ(after, 0);
  EXPECT_EQ(CountRows(**pool), 1);
}

TEST_F(ReadPoolTest, InitializersRunOnEveryConnection) {
  std::atomic<int> calls{0};
  options_.connection_initializers.push_back([&calls](sqlite3*) {
    ++calls;
    return Status::Ok();
  });
  auto pool = ReadPool::Open(options_, 3);
  ASSERT_TRUE(pool.ok());
  EXPECT_EQ(calls.load(), 3);
}

TEST_F(ReadPoolTest, BorrowBlocksUntilAConnectionIsReturned) {
  auto pool = ReadPool::Open(options_, 1);
  ASSERT_TRUE(pool.ok());
  std::atomic<bool> got_second{false};
  std::thread other;
  {
    ReadPool::Lease lease = (*pool)->Borrow();
    other = std::thread([&] {
      ReadPool::Lease second = (*pool)->Borrow();
      got_second = true;
    });
    // The other thread cannot have a connection while we hold the only one.
    std::this_thread::yield();
    EXPECT_FALSE(got_second.load());
  }
  other.join();
  EXPECT_TRUE(got_second.load());
}

TEST_F(ReadPoolTest, ManyThreadsReadConcurrently) {
  auto pool = ReadPool::Open(options_, 3);
  ASSERT_TRUE(pool.ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(writer_->Exec("INSERT INTO kv VALUES (1, 'a')").ok());
  }
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (CountRows(**pool) != 10) ++wrong;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(ReadPoolTest, SizeBelowOneIsInvalid) {
  auto pool = ReadPool::Open(options_, 0);
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.status().code(), StatusCode::kInvalidArgument);
}

TEST(ReadPool, MissingDatabaseFailsToOpen) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("missing.db");
  auto pool = ReadPool::Open(options, 2);
  ASSERT_FALSE(pool.ok());
  EXPECT_NE(pool.status().message().find("missing.db"), std::string::npos);
}

}  // namespace
}  // namespace kefu::storage
