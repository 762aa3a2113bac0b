#include "storage/writer_executor.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "storage/migrations.h"
#include "tests/support/temp_dir.h"

namespace kefu::storage {
namespace {

constexpr std::string_view kInsert = "INSERT INTO items (id, note) VALUES (?1, ?2)";

WriterExecutor::Job Insert(int64_t id, std::string note = "") {
  return [id, note](Database& db) -> Status {
    KEFU_ASSIGN_OR_RETURN(Statement * st, db.Prepare(kInsert));
    KEFU_RETURN_IF_ERROR(st->BindAll(id, note));
    return st->Run();
  };
}

const prometheus::ClientMetric* FindMetric(const std::vector<prometheus::MetricFamily>& families,
                                           const std::string& name,
                                           const std::string& label_value = "") {
  for (const auto& f : families) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      if (label_value.empty() || (!m.label.empty() && m.label[0].value == label_value)) return &m;
    }
  }
  return nullptr;
}

class WriterExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.path = dir_.File("kefu.db");
    auto db = Database::Open(options_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(ApplyMigrations(**db, "test",
                                {{1, "items",
                                  "CREATE TABLE parents (id INTEGER PRIMARY KEY);"
                                  "CREATE TABLE items (id INTEGER PRIMARY KEY, note TEXT);"
                                  "CREATE TABLE children (pid INTEGER REFERENCES parents(id) "
                                  "DEFERRABLE INITIALLY DEFERRED)"}})
                    .ok());
    writer_ = std::make_unique<WriterExecutor>(std::move(db).value(), registry_, writer_options_);
    auto reader = Database::Open(options_);
    ASSERT_TRUE(reader.ok());
    reader_ = std::move(reader).value();
  }

  int64_t Count(const std::string& sql) {
    auto st = reader_->Prepare(sql);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    auto row = (*st)->Step();
    EXPECT_TRUE(row.ok() && *row);
    int64_t n = (*st)->ColumnInt64(0);
    (*st)->Reset();
    return n;
  }

  // Blocks the writer thread until the returned promise is fulfilled, so that jobs posted
  // meanwhile queue up and form one group.
  std::promise<void> BlockWriter() {
    std::promise<void> release;
    std::shared_future<void> gate = release.get_future().share();
    std::promise<void> started;
    auto started_future = started.get_future();
    writer_->Post([gate, &started](Database&) {
      started.set_value();
      gate.wait();
      return Status::Ok();
    });
    started_future.wait();
    return release;
  }

  testing::TempDir dir_;
  DatabaseOptions options_;
  WriterOptions writer_options_;
  prometheus::Registry registry_;
  std::unique_ptr<WriterExecutor> writer_;
  std::unique_ptr<Database> reader_;
};

TEST_F(WriterExecutorTest, RunReturnsOnlyAfterTheWriteIsCommitted) {
  ASSERT_TRUE(writer_->Run(Insert(1)).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM items WHERE id = 1"), 1);
}

TEST_F(WriterExecutorTest, DoneIsCalledAfterCommitOnTheWriterThread) {
  std::promise<std::pair<int64_t, bool>> seen;
  writer_->Post(Insert(7), [&](Status s) {
    EXPECT_TRUE(s.ok()) << s.ToString();
    // Another connection already sees the row: the COMMIT happened before done.
    seen.set_value({Count("SELECT count(*) FROM items WHERE id = 7"), writer_->OnWriterThread()});
  });
  auto [count, on_writer] = seen.get_future().get();
  EXPECT_EQ(count, 1);
  EXPECT_TRUE(on_writer);
}

TEST_F(WriterExecutorTest, QueuedJobsAreCommittedTogetherInOneGroup) {
  auto release = BlockWriter();
  std::atomic<int> ok{0};
  std::promise<void> all_done;
  for (int i = 1; i <= 50; ++i) {
    writer_->Post(Insert(i), [&, i](Status s) {
      if (s.ok()) ++ok;
      if (i == 50) all_done.set_value();
    });
  }
  release.set_value();
  all_done.get_future().wait();
  EXPECT_EQ(ok.load(), 50);
  EXPECT_EQ(Count("SELECT count(*) FROM items"), 50);
  auto families = registry_.Collect();
  const auto* batch = FindMetric(families, "kefu_storage_commit_batch_jobs");
  ASSERT_NE(batch, nullptr);
  EXPECT_EQ(batch->histogram.sample_count, 2u);  // the blocker alone, then all 50 together
  EXPECT_DOUBLE_EQ(batch->histogram.sample_sum, 51);
  const auto* commits = FindMetric(families, "kefu_storage_commit_seconds");
  ASSERT_NE(commits, nullptr);
  EXPECT_EQ(commits->histogram.sample_count, 2u);
  const auto* jobs_ok = FindMetric(families, "kefu_storage_writer_jobs_total", "ok");
  ASSERT_NE(jobs_ok, nullptr);
  EXPECT_DOUBLE_EQ(jobs_ok->counter.value, 51);
}

TEST_F(WriterExecutorTest, GroupsAreCappedAtMaxBatch) {
  writer_->Stop();
  writer_options_.max_batch = 10;
  SetUp();
  auto release = BlockWriter();
  std::vector<std::future<Status>> results;
  for (int i = 1; i <= 25; ++i) {
    auto p = std::make_shared<std::promise<Status>>();
    results.push_back(p->get_future());
    writer_->Post(Insert(i), [p](Status s) { p->set_value(s); });
  }
  release.set_value();
  for (auto& r : results)
    EXPECT_TRUE(r.get().ok());
  auto families = registry_.Collect();
  const auto* batch = FindMetric(families, "kefu_storage_commit_batch_jobs");
  ASSERT_NE(batch, nullptr);
  // The blocker alone, then 25 jobs in groups of at most 10: 10 + 10 + 5 (uncapped: one group).
  EXPECT_EQ(batch->histogram.sample_count, 4u);
  EXPECT_DOUBLE_EQ(batch->histogram.sample_sum, 26);
}

TEST_F(WriterExecutorTest, AFailingJobRollsBackOnlyItselfAndGetsItsOwnError) {
  auto release = BlockWriter();
  std::promise<Status> first, second, third;
  writer_->Post(Insert(1), [&](Status s) { first.set_value(s); });
  writer_->Post(
      [](Database& db) -> Status {
        KEFU_RETURN_IF_ERROR(Insert(2)(db));  // written, then undone with the job
        return InvalidArgument("job two refuses");
      },
      [&](Status s) { second.set_value(s); });
  writer_->Post(Insert(1), [&](Status s) { third.set_value(s); });  // duplicate key
  writer_->Post(Insert(3));
  release.set_value();
  EXPECT_TRUE(first.get_future().get().ok());
  Status two = second.get_future().get();
  EXPECT_EQ(two.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(two.message(), "job two refuses");
  EXPECT_EQ(third.get_future().get().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(writer_->Run([](Database&) { return Status::Ok(); }).ok());
  auto st = reader_->Prepare("SELECT group_concat(id) FROM (SELECT id FROM items ORDER BY id)");
  ASSERT_TRUE(*(*st)->Step());
  EXPECT_EQ((*st)->ColumnText(0), "1,3");
}

TEST_F(WriterExecutorTest, WhenCommitFailsEveryJobOfTheGroupGetsTheError) {
  auto release = BlockWriter();
  std::promise<Status> good, bad;
  writer_->Post(Insert(1), [&](Status s) { good.set_value(s); });
  // A deferred foreign key violation is only detected at COMMIT.
  writer_->Post([](Database& db) { return db.Exec("INSERT INTO children (pid) VALUES (404)"); },
                [&](Status s) { bad.set_value(s); });
  release.set_value();
  Status g = good.get_future().get();
  Status b = bad.get_future().get();
  EXPECT_FALSE(g.ok());
  EXPECT_FALSE(b.ok());
  EXPECT_EQ(g.message(), b.message());
  EXPECT_NE(g.message().find("COMMIT"), std::string::npos) << g.message();
  EXPECT_EQ(Count("SELECT count(*) FROM items"), 0);
  // The writer keeps working afterwards.
  EXPECT_TRUE(writer_->Run(Insert(2)).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM items"), 1);
}

TEST_F(WriterExecutorTest, AThrowingJobBecomesInternalAndOthersCommit) {
  Status thrown = writer_->Run([](Database& db) -> Status {
    (void)Insert(5)(db);
    throw std::runtime_error("boom");
  });
  EXPECT_EQ(thrown.code(), StatusCode::kInternal);
  EXPECT_NE(thrown.message().find("boom"), std::string::npos);
  EXPECT_TRUE(writer_->Run(Insert(6)).ok());
  EXPECT_EQ(Count("SELECT count(*) FROM items WHERE id = 5"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM items WHERE id = 6"), 1);
}

TEST_F(WriterExecutorTest, CallReturnsTheJobsValueAfterCommit) {
  Result<int64_t> id = writer_->Call([](Database& db) -> Result<int64_t> {
    KEFU_RETURN_IF_ERROR(db.Exec("INSERT INTO items (note) VALUES ('auto')"));
    return db.LastInsertRowId();
  });
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(Count("SELECT count(*) FROM items WHERE id = " + std::to_string(*id)), 1);
  Result<int64_t> failed =
      writer_->Call([](Database&) -> Result<int64_t> { return NotFound("nope"); });
  EXPECT_EQ(failed.status().code(), StatusCode::kNotFound);
}

TEST_F(WriterExecutorTest, TransactionInsideAJobNestsAsSavepoint) {
  Status s = writer_->Run([](Database& db) -> Status {
    KEFU_RETURN_IF_ERROR(Insert(1)(db));
    {
      Transaction inner(db);
      KEFU_RETURN_IF_ERROR(inner.begin_status());
      KEFU_RETURN_IF_ERROR(Insert(2)(db));
    }  // rolled back
    Transaction kept(db);
    KEFU_RETURN_IF_ERROR(Insert(3)(db));
    return kept.Commit();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Count("SELECT count(*) FROM items"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM items WHERE id = 2"), 0);
}

TEST_F(WriterExecutorTest, RunOnTheWriterThreadFailsInsteadOfDeadlocking) {
  std::promise<Status> inner;
  writer_->Post([&](Database&) {
    inner.set_value(writer_->Run(Insert(1)));
    return Status::Ok();
  });
  EXPECT_EQ(inner.get_future().get().code(), StatusCode::kFailedPrecondition);
}

TEST_F(WriterExecutorTest, StopDrainsEveryQueuedJobBeforeReturning) {
  auto release = BlockWriter();
  std::atomic<int> acked{0};
  for (int i = 1; i <= 1000; ++i) {
    writer_->Post(Insert(i), [&](Status s) {
      if (s.ok()) ++acked;
    });
  }
  std::thread stopper([&] { writer_->Stop(); });
  release.set_value();
  stopper.join();
  EXPECT_EQ(acked.load(), 1000);
  EXPECT_EQ(Count("SELECT count(*) FROM items"), 1000);
}

TEST_F(WriterExecutorTest, StopFromADoneCallbackStillDrainsTheQueue) {
  auto release = BlockWriter();
  std::atomic<int> acked{0};
  WriterExecutor* writer = writer_.get();
  writer_->Post(Insert(1), [writer](Status) { writer->Stop(); });
  for (int i = 2; i <= 10; ++i) {
    writer_->Post(Insert(i), [&](Status s) {
      if (s.ok()) ++acked;
    });
  }
  release.set_value();
  writer_.reset();  // joins
  EXPECT_EQ(acked.load(), 9);
  EXPECT_EQ(Count("SELECT count(*) FROM items"), 10);
}

TEST_F(WriterExecutorTest, PostAfterStopCallsDoneWithUnavailable) {
  writer_->Stop();
  std::optional<Status> got;
  writer_->Post(Insert(1), [&](Status s) { got = s; });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->code(), StatusCode::kUnavailable);
  EXPECT_EQ(writer_->Run(Insert(2)).code(), StatusCode::kUnavailable);
}

TEST_F(WriterExecutorTest, ManyPostingThreadsAllGetAcknowledged) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  std::atomic<int> acked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        ASSERT_TRUE(writer_->Run(Insert(t * kPerThread + i + 1)).ok());
        ++acked;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(acked.load(), kThreads * kPerThread);
  EXPECT_EQ(Count("SELECT count(*) FROM items"), kThreads * kPerThread);
}

TEST(WriterExecutor, BusyDatabaseFailsTheGroupWithUnavailableAndLaterJobsSucceed) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("kefu.db");
  options.busy_timeout_ms = 50;
  prometheus::Registry registry;
  auto other = Database::Open(options);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->Exec("CREATE TABLE t (x INTEGER)").ok());
  auto writer = WriterExecutor::Open(options, registry);
  ASSERT_TRUE(writer.ok());
  auto insert = [](Database& db) { return db.Exec("INSERT INTO t VALUES (1)"); };
  {
    // Another process (say kefuctl) holds the write lock longer than the busy timeout.
    Transaction holder(**other);
    ASSERT_TRUE(holder.begin_status().ok());
    EXPECT_EQ((*writer)->Run(insert).code(), StatusCode::kUnavailable);
  }
  EXPECT_TRUE((*writer)->Run(insert).ok());
  auto families = registry.Collect();
  const auto* errors = FindMetric(families, "kefu_storage_writer_jobs_total", "error");
  ASSERT_NE(errors, nullptr);
  EXPECT_DOUBLE_EQ(errors->counter.value, 1);
  const auto* depth = FindMetric(families, "kefu_storage_writer_queue_depth");
  ASSERT_NE(depth, nullptr);
  EXPECT_DOUBLE_EQ(depth->gauge.value, 0);
}

TEST(WriterExecutor, OpenFailsWithTheDatabaseError) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.path = dir.File("missing/dir/kefu.db");
  prometheus::Registry registry;
  auto writer = WriterExecutor::Open(options, registry);
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.status().message().find("cannot open database"), std::string::npos);
}

double Checkpoints(prometheus::Registry& registry, const std::string& thread) {
  double n = 0;
  for (const auto& f : registry.Collect()) {
    if (f.name != "kefu_storage_checkpoints_total") continue;
    for (const auto& m : f.metric) {
      bool thread_matches = false;
      bool ok = false;
      for (const auto& l : m.label) {
        if (l.name == "thread" && l.value == thread) thread_matches = true;
        if (l.name == "result" && l.value == "ok") ok = true;
      }
      if (thread_matches && ok) n += m.counter.value;
    }
  }
  return n;
}

// Sequential commits of one ~4 KiB row each (at least one WAL page per commit).
void WritePages(WriterExecutor& writer, int first_id, int n) {
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(writer.Run(Insert(first_id + i, std::string(4000, 'x'))).ok());
  }
}

TEST_F(WriterExecutorTest, WalCheckpointsRunOnTheBackgroundThreadNotInCommit) {
  writer_->Stop();
  writer_options_.checkpoint_wal_pages = 16;
  writer_options_.restart_wal_pages = 1'000'000;
  SetUp();
  WritePages(*writer_, 1, 100);
  // The background pass runs after the commit that crossed 16 pages; wait for it (bounded).
  for (int i = 0; i < 500 && Checkpoints(registry_, "background") < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(Checkpoints(registry_, "background"), 1);
  EXPECT_EQ(Checkpoints(registry_, "writer"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM items"), 100);
}

TEST_F(WriterExecutorTest, WriterStartsTheWalOverAtRestartPages) {
  writer_->Stop();
  writer_options_.checkpoint_wal_pages = 1'000'000;  // no background passes: only the writer's
  writer_options_.restart_wal_pages = 32;
  SetUp();
  WritePages(*writer_, 1, 300);
  EXPECT_GE(Checkpoints(registry_, "writer"), 5);
  // Without the writer's checkpoint the WAL would hold all 300+ pages (no automatic checkpoint).
  std::error_code ec;
  auto wal_bytes = std::filesystem::file_size(options_.path + "-wal", ec);
  ASSERT_FALSE(ec);
  EXPECT_LT(wal_bytes, 80u * 4096u);
  EXPECT_EQ(Count("SELECT count(*) FROM items"), 300);
}

TEST_F(WriterExecutorTest, WithoutBackgroundCheckpointsCommitCheckpointsAsSqliteDoes) {
  writer_->Stop();
  writer_options_.checkpoint_wal_pages = 0;
  SetUp();
  WritePages(*writer_, 1, 1200);  // past SQLite's 1000-page automatic checkpoint
  std::error_code ec;
  auto wal_bytes = std::filesystem::file_size(options_.path + "-wal", ec);
  ASSERT_FALSE(ec);
  EXPECT_LT(wal_bytes, 1100u * 4200u);
  EXPECT_EQ(Checkpoints(registry_, "background") + Checkpoints(registry_, "writer"), 0);
}

}  // namespace
}  // namespace kefu::storage
