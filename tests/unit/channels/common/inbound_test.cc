#include "channels/common/inbound.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

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

TEST(ChannelMigrations, AreIdempotent) {
  TestDb db;
  auto again = storage::Database::Open(db.options);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(MigrateChannels(**again).ok());
}

}  // namespace
}  // namespace kefu::channels
