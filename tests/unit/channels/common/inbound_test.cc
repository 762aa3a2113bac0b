#include "channels/common/inbound.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "storage/migrations.h"
#include "tests/unit/channels/common/test_db.h"

namespace kefu::channels {
namespace {

using testing::TestDb;

class CollectingSink : public InboundSink {
 public:
  void OnInbound(const StoredInbound& m) override {
    std::lock_guard lock(mu);
    got.push_back(m);
  }
  std::mutex mu;
  std::vector<StoredInbound> got;
};

InboundMessage Msg(std::string key) {
  InboundMessage m;
  m.channel = "wecom";
  m.app = "main";
  m.dedupe_key = std::move(key);
  m.sender = "zhangsan";
  m.conversation = "wecom|main|zhangsan";
  m.msg_type = "text";
  m.text = "你好";
  m.platform_msg_id = "4561255354251345929";
  return m;
}

RecordOutcome RecordSync(InboundRecorder& rec, InboundMessage m) {
  std::promise<RecordOutcome> p;
  rec.Record(std::move(m), [&](RecordOutcome o) { p.set_value(o); });
  return p.get_future().get();
}

TEST(InboundRecorder, DuplicateDedupeKeyIsAcknowledgedWithoutEffect) {
  TestDb db;
  CollectingSink sink;
  InboundRecorder rec(*db.writer, &sink);
  RecordOutcome a = RecordSync(rec, Msg("k1"));
  RecordOutcome b = RecordSync(rec, Msg("k1"));
  ASSERT_TRUE(a.status.ok() && b.status.ok());
  EXPECT_FALSE(a.duplicate);
  EXPECT_TRUE(b.duplicate);
  EXPECT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.got[0].message.platform_msg_id, "4561255354251345929");
}

TEST(InboundRecorder, SameCallbackThreeTimesConcurrentlyIsStoredOnce) {
  TestDb db;
  CollectingSink sink;
  InboundRecorder rec(*db.writer, &sink);
  std::vector<std::future<RecordOutcome>> fs;
  for (int i = 0; i < 3; ++i) {
    fs.push_back(std::async(std::launch::async, [&] { return RecordSync(rec, Msg("same")); }));
  }
  int fresh = 0;
  for (auto& f : fs) {
    RecordOutcome o = f.get();
    ASSERT_TRUE(o.status.ok());
    if (!o.duplicate) ++fresh;
  }
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(sink.got.size(), 1u);
  auto rows = db.Read([](storage::Database& d) { return LoadUnprocessedInbound(d, 10); });
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u);
}

TEST(InboundRecorder, UnprocessedRowsAreResumedAtStartAndProcessedOnesAreNot) {
  TestDb db;
  {
    InboundRecorder first(*db.writer, nullptr);
    ASSERT_TRUE(RecordSync(first, Msg("a")).status.ok());
    ASSERT_TRUE(RecordSync(first, Msg("b")).status.ok());
  }
  ASSERT_TRUE(
      db.writer->Run([](storage::Database& d) { return MarkInboundProcessed(d, 1, 5); }).ok());
  CollectingSink sink;
  InboundRecorder second(*db.writer, &sink);
  auto lease = db.reads->Borrow();
  ASSERT_TRUE(second.ResumeUnprocessed(*lease).ok());
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.got[0].message.dedupe_key, "b");
}

TEST(InboundRecorder, BatchStoresNewRowsAndRunsExtraWorkInTheSameTransaction) {
  TestDb db;
  CollectingSink sink;
  InboundRecorder rec(*db.writer, &sink);
  std::promise<std::pair<Status, int>> p;
  rec.RecordBatch(
      {Msg("x"), Msg("y"), Msg("x")},
      [](storage::Database& d) {
        return d.Exec("INSERT INTO channel_kf_cursor VALUES('main','wk1','c1',1)");
      },
      [&](Status s, int n) {
        p.set_value({s, n});
      });
  auto [s, n] = p.get_future().get();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(n, 2);
  EXPECT_EQ(sink.got.size(), 2u);
}

// Holds the writer thread inside a job until Release(), so that records queue up behind it.
class WriterBlocker {
 public:
  explicit WriterBlocker(storage::WriterExecutor& writer) {
    auto release = release_.get_future().share();
    writer.Post(
        [this, release](storage::Database&) {
          started_.set_value();
          release.wait();
          return Status::Ok();
        },
        nullptr);
    started_.get_future().wait();
  }
  void Release() { release_.set_value(); }

 private:
  std::promise<void> started_;
  std::promise<void> release_;
};

double WriterJobsOk(prometheus::Registry& registry) {
  for (const auto& family : registry.Collect()) {
    if (family.name != "kefu_storage_writer_jobs_total") continue;
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) {
        if (label.name == "result" && label.value == "ok") return metric.counter.value;
      }
    }
  }
  return -1;
}

TEST(InboundRecorder, MessagesArrivingWhileTheWriterIsBusyShareOneWriterJob) {
  TestDb db;
  CollectingSink sink;
  InboundRecorder rec(*db.writer, &sink);
  WriterBlocker blocker(*db.writer);
  constexpr int kMessages = 40;
  std::vector<std::promise<RecordOutcome>> outcomes(kMessages);
  for (int i = 0; i < kMessages; ++i) {
    rec.Record(Msg(std::string("k").append(std::to_string(i))),
               [&outcomes, i](RecordOutcome o) { outcomes[static_cast<size_t>(i)].set_value(o); });
  }
  blocker.Release();
  for (auto& p : outcomes) {
    RecordOutcome o = p.get_future().get();
    ASSERT_TRUE(o.status.ok()) << o.status.ToString();
    EXPECT_FALSE(o.duplicate);
    EXPECT_GT(o.id, 0);
  }
  EXPECT_DOUBLE_EQ(WriterJobsOk(db.registry), 2);  // the blocker, then one job for all 40
  EXPECT_EQ(sink.got.size(), static_cast<size_t>(kMessages));
  auto rows = db.Read([](storage::Database& d) { return LoadUnprocessedInbound(d, 100); });
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), static_cast<size_t>(kMessages));
  EXPECT_EQ((*rows)[0].message.dedupe_key, "k0");  // stored in arrival order
  EXPECT_EQ((*rows)[kMessages - 1].message.dedupe_key, "k39");
}

TEST(InboundRecorder, ARejectedInsertFailsOnlyItsOwnMessageOfTheBatch) {
  TestDb db;
  ASSERT_TRUE(db.writer
                  ->Run([](storage::Database& d) {
                    return d.Exec(
                        "CREATE TRIGGER reject_bad BEFORE INSERT ON channel_inbound "
                        "WHEN NEW.dedupe_key = 'bad' BEGIN SELECT RAISE(ABORT, 'rejected'); END");
                  })
                  .ok());
  CollectingSink sink;
  InboundRecorder rec(*db.writer, &sink);
  WriterBlocker blocker(*db.writer);
  std::vector<std::promise<RecordOutcome>> outcomes(3);
  std::vector<std::string> keys = {"a", "bad", "c"};
  for (size_t i = 0; i < keys.size(); ++i) {
    rec.Record(Msg(keys[i]), [&outcomes, i](RecordOutcome o) { outcomes[i].set_value(o); });
  }
  blocker.Release();
  RecordOutcome a = outcomes[0].get_future().get();
  RecordOutcome bad = outcomes[1].get_future().get();
  RecordOutcome c = outcomes[2].get_future().get();
  EXPECT_TRUE(a.status.ok());
  EXPECT_FALSE(bad.status.ok());
  EXPECT_TRUE(c.status.ok());
  ASSERT_EQ(sink.got.size(), 2u);
  auto rows = db.Read([](storage::Database& d) { return LoadUnprocessedInbound(d, 10); });
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].message.dedupe_key, "a");
  EXPECT_EQ((*rows)[1].message.dedupe_key, "c");
}

TEST(InboundRecorder, StoppedWriterAnswersUnavailableAndStoresNothing) {
  TestDb db;
  CollectingSink sink;
  InboundRecorder rec(*db.writer, &sink);
  db.writer->Stop();
  RecordOutcome first = RecordSync(rec, Msg("a"));
  RecordOutcome second = RecordSync(rec, Msg("b"));
  EXPECT_EQ(first.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(second.status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(sink.got.empty());
}

TEST(InboundStore, SenderLatestRowFollowsCustomerMessagesNotEventsServicersOrDuplicates) {
  TestDb db;
  auto insert = [&](std::string key, std::string app, std::string type, int64_t time_ms,
                    std::string ctx) {
    InboundMessage m = Msg(std::move(key));
    m.app = std::move(app);
    m.msg_type = std::move(type);
    m.platform_time_ms = time_ms;
    m.reply_context = std::move(ctx);
    return db.writer->Call([&](storage::Database& d) { return InsertInbound(d, m); });
  };
  ASSERT_TRUE(insert("a", "main", "text", 2000, "ctx-a").ok());
  ASSERT_TRUE(insert("b", "main", "text", 1000, "ctx-b").ok());  // late redelivery, older time
  ASSERT_TRUE(insert("c", "main", "event", 9000, "ctx-c").ok());
  ASSERT_TRUE(insert("s", "main", "servicer_message", 9500, "ctx-s").ok());  // kf origin 5
  ASSERT_TRUE(insert("d", "other", "text", 500, "ctx-d").ok());
  ASSERT_TRUE(insert("b", "main", "text", 7000, "ctx-dup").ok());  // duplicate key: no effect

  auto last =
      db.Read([](storage::Database& d) { return LastInboundTime(d, "wecom", "main", "zhangsan"); });
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ(**last, 2000);  // the latest platform time, not the latest arrival; events and the
                            // servicer's own messages ignored
  auto other = db.Read(
      [](storage::Database& d) { return LastInboundTime(d, "wecom", "other", "zhangsan"); });
  ASSERT_TRUE(other.ok() && other->has_value());
  EXPECT_EQ(**other, 500);
  auto nobody =
      db.Read([](storage::Database& d) { return LastInboundTime(d, "wecom", "main", "lisi"); });
  ASSERT_TRUE(nobody.ok());
  EXPECT_FALSE(nobody->has_value());

  auto ctx =
      db.Read([](storage::Database& d) { return LatestReplyContext(d, "wecom", "zhangsan"); });
  ASSERT_TRUE(ctx.ok() && ctx->has_value());
  EXPECT_EQ((*ctx)->first, "other");  // the last stored message of the sender on any app
  EXPECT_EQ((*ctx)->second, "ctx-d");
}

TEST(ChannelMigrations, VersionTwoKeepsMessagesStoredBeforeItDuplicatesAndTheirSenders) {
  kefu::testing::TempDir dir;
  storage::DatabaseOptions options;
  options.path = dir.File("kefu.db");
  auto db = storage::Database::Open(options);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(storage::ApplyMigrations(**db, "channels", {ChannelMigrations().front()}).ok());
  constexpr char kInsertV1[] =
      "INSERT INTO channel_inbound(dedupe_key, channel, app, sender, conversation, msg_type, "
      "event, text, payload, reply_context, platform_msg_id, platform_time_ms, received_at_ms) "
      "VALUES(?, ?, 'main', 'zhangsan', '', ?, '', '', '', ?, ?, ?, 0)";
  auto row = [&](std::string_view key, std::string_view channel, std::string_view type,
                 std::string_view ctx, std::string_view msg_id, int64_t time_ms) {
    auto st = (*db)->Prepare(kInsertV1);
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE((*st)->BindAll(key, channel, type, ctx, msg_id, time_ms).ok());
    ASSERT_TRUE((*st)->Run().ok());
  };
  row("wecom|ww1|1000002|zhangsan|4561255354251345929", "wecom", "text", "ctx-1",
      "4561255354251345929", 1000);
  row("wecom|ww1|1000002|zhangsan|1409659813|enter_agent||abc", "wecom", "event", "ctx-e", "",
      5000);
  row("wecom_kf|ww1|msg-9", "wecom_kf", "text", "ctx-kf", "msg-9", 3000);
  row("wecom_kf|ww1|msg-10", "wecom_kf", "servicer_message", "ctx-s", "msg-10", 4000);
  ASSERT_TRUE(MigrateChannels(**db).ok());

  auto keys = (*db)->Prepare("SELECT dedupe_key FROM channel_inbound ORDER BY id");
  ASSERT_TRUE(keys.ok());
  std::vector<std::string> got;
  while (*(*keys)->Step())
    got.push_back((*keys)->ColumnText(0));
  EXPECT_EQ(got, (std::vector<std::string>{
                     "wecom|4561255354251345929|ww1|1000002|zhangsan",  // the form ToInbound makes
                     "wecom|ww1|1000002|zhangsan|1409659813|enter_agent||abc",  // events unchanged
                     "wecom_kf|ww1|msg-9", "wecom_kf|ww1|msg-10"}));
  InboundMessage again = Msg("wecom|4561255354251345929|ww1|1000002|zhangsan");
  auto id = InsertInbound(**db, again);
  ASSERT_TRUE(id.ok());
  EXPECT_FALSE(id->has_value());  // a redelivery after the upgrade is still a duplicate

  auto last = LastInboundTime(**db, "wecom", "main", "zhangsan");
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ(**last, 1000);  // the event's time does not count
  auto kf = LastInboundTime(**db, "wecom_kf", "main", "zhangsan");
  ASSERT_TRUE(kf.ok() && kf->has_value());
  EXPECT_EQ(**kf, 3000);  // the servicer's own message does not count
  auto ctx = LatestReplyContext(**db, "wecom", "zhangsan");
  ASSERT_TRUE(ctx.ok() && ctx->has_value());
  EXPECT_EQ((*ctx)->second, "ctx-1");
}

TEST(ChannelMigrations, AreIdempotent) {
  TestDb db;
  auto again = storage::Database::Open(db.options);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(MigrateChannels(**again).ok());
}

}  // namespace
}  // namespace kefu::channels
