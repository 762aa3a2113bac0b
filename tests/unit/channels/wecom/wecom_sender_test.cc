#include "channels/wecom/wecom_sender.h"

#include <gtest/gtest.h>

#include "channels/wecom/kf_syncer.h"
#include "tests/fakes/fake_wecom.h"
#include "tests/unit/channels/common/test_db.h"

namespace kefu::channels::wecom {
namespace {

using channels::testing::TestDb;
using fakes::FakeWecom;
using fakes::Fault;
using std::chrono::seconds;

struct Env {
  Env() : wecom("ww1", "app-secret", "kf-secret") {
    wecom.Start();
    app.name = "main";
    app.corp_id = "ww1";
    app.agent_id = 1000002;
    app.secret = "app-secret";
    app.kf_secret = "kf-secret";
    app.api_base = wecom.base_url();
  }
  FakeWecom wecom;
  WecomAppConfig app;
  FakeClock clock;
  HttplibClient http;
  TestDb db;
};

OutboundMessage Reply(const std::string& channel, const std::string& to, const std::string& text,
                      const std::string& key, const std::string& ctx = "{}") {
  OutboundMessage m;
  m.channel = channel;
  m.app = "main";
  m.destination = to;
  m.content = text;
  m.idempotency_key = key;
  m.reply_context = ctx;
  return m;
}

void Enqueue(TestDb& db, const OutboundMessage& m, int64_t now) {
  ASSERT_TRUE(
      db.writer->Run([&](storage::Database& d) { return EnqueueOutbound(d, m, now).status(); })
          .ok());
}

TEST(WecomSender, HundredRepliesToOneMemberAreAllDeliveredNeverMoreThanThirtyPerMinute) {
  Env e;
  WecomApi api(e.app.api_base, e.app.corp_id, e.app.secret, e.http, e.clock);
  WecomSender sender(e.app, api, e.clock);
  OutboxDispatcher d(*e.db.writer, *e.db.reads, e.clock, e.db.registry);
  d.AddSender("wecom", "main", &sender);
  for (int i = 0; i < 100; ++i) {
    Enqueue(e.db,
            Reply("wecom", "zhangsan", std::string("r").append(std::to_string(i)),
                  std::string("k").append(std::to_string(i))),
            e.clock.NowUnixMs());
  }
  std::vector<std::pair<int64_t, int>> per_round;  // (time, sent)
  int total = 0;
  for (int round = 0; round < 50 && total < 100; ++round) {
    int n = d.RunOnce();
    per_round.push_back({e.clock.NowUnixMs(), n});
    total += n;
    e.clock.Advance(seconds(10));
  }
  EXPECT_EQ(total, 100);
  auto texts = e.wecom.SentTexts(FakeWecom::kMessageSend);
  ASSERT_EQ(texts.size(), 100u);
  EXPECT_EQ(texts.front(), "r0");
  EXPECT_EQ(texts.back(), "r99");
  for (size_t i = 0; i < per_round.size(); ++i) {
    int in_minute = 0;
    for (size_t j = i; j < per_round.size() && per_round[j].first < per_round[i].first + 60000;
         ++j) {
      in_minute += per_round[j].second;
    }
    EXPECT_LE(in_minute, 30);
  }
  auto body = e.wecom.Requests(FakeWecom::kMessageSend)[0].Json();
  EXPECT_EQ(body["enable_duplicate_check"], 1);
  EXPECT_EQ(body["agentid"], 1000002);
  EXPECT_EQ(e.wecom.tokens_issued(), 1);
}

TEST(WecomSender, ExpiredTokenIsRefreshedOnceAndTheSendSucceeds) {
  Env e;
  WecomApi api(e.app.api_base, e.app.corp_id, e.app.secret, e.http, e.clock);
  WecomSender sender(e.app, api, e.clock);
  OutboxDispatcher d(*e.db.writer, *e.db.reads, e.clock, e.db.registry);
  d.AddSender("wecom", "main", &sender);
  Enqueue(e.db, Reply("wecom", "u", "one", "k1"), e.clock.NowUnixMs());
  EXPECT_EQ(d.RunOnce(), 1);
  e.wecom.ExpireTokens();
  Enqueue(e.db, Reply("wecom", "u", "two", "k2"), e.clock.NowUnixMs());
  EXPECT_EQ(d.RunOnce(), 1);
  EXPECT_EQ(e.wecom.tokens_issued(), 2);
  EXPECT_EQ(e.wecom.Count(FakeWecom::kMessageSend), 3u);  // one 42001 + two deliveries
}

TEST(WecomSender, BadSecretDeadLettersWithoutRetryingGettokenInALoop) {
  Env e;
  WecomApi api(e.app.api_base, e.app.corp_id, "wrong", e.http, e.clock);
  WecomSender sender(e.app, api, e.clock);
  OutboxDispatcher d(*e.db.writer, *e.db.reads, e.clock, e.db.registry);
  d.AddSender("wecom", "main", &sender);
  for (int i = 0; i < 5; ++i) {
    Enqueue(e.db,
            Reply("wecom", std::string("u").append(std::to_string(i)), "x",
                  std::string("k").append(std::to_string(i))),
            e.clock.NowUnixMs());
  }
  d.RunOnce();
  d.RunOnce();
  EXPECT_EQ(e.wecom.Count(FakeWecom::kGetToken), 1u);
  auto dead =
      e.db.Read([](storage::Database& db) { return ListOutbox(db, OutboxState::kDead, 10); });
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 5u);
  EXPECT_NE((*dead)[0].last_error.find("40001"), std::string::npos);
}

TEST(WecomSender, RateLimitErrorBacksOffSixtySecondsAnd5xxRetries) {
  Env e;
  WecomApi api(e.app.api_base, e.app.corp_id, e.app.secret, e.http, e.clock);
  WecomSender sender(e.app, api, e.clock);
  OutboxDispatcher d(*e.db.writer, *e.db.reads, e.clock, e.db.registry);
  d.AddSender("wecom", "main", &sender);
  e.wecom.Inject(FakeWecom::kMessageSend, {Fault::Kind::kErrcode, 45009, {}});
  e.wecom.Inject(FakeWecom::kMessageSend, {Fault::Kind::kHttpStatus, 503, {}});
  Enqueue(e.db, Reply("wecom", "u", "x", "k"), e.clock.NowUnixMs());
  EXPECT_EQ(d.RunOnce(), 0);
  e.clock.Advance(seconds(59));
  EXPECT_EQ(d.RunOnce(), 0);
  EXPECT_EQ(e.wecom.Count(FakeWecom::kMessageSend), 1u);
  e.clock.Advance(seconds(1));
  EXPECT_EQ(d.RunOnce(), 0);  // 503
  e.clock.Advance(seconds(2));
  EXPECT_EQ(d.RunOnce(), 1);
  EXPECT_EQ(e.wecom.Count(FakeWecom::kMessageSend), 3u);
}

TEST(WecomSender, LongTextIsSplitAt2048BytesOnCodePoints) {
  Env e;
  WecomApi api(e.app.api_base, e.app.corp_id, e.app.secret, e.http, e.clock);
  WecomSender sender(e.app, api, e.clock);
  OutboxDispatcher d(*e.db.writer, *e.db.reads, e.clock, e.db.registry);
  d.AddSender("wecom", "main", &sender);
  std::string text;
  for (int i = 0; i < 1000; ++i)
    text += "😀";
  Enqueue(e.db, Reply("wecom", "u", text, "k"), e.clock.NowUnixMs());
  EXPECT_EQ(d.RunOnce(), 1);
  auto texts = e.wecom.SentTexts(FakeWecom::kMessageSend);
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_LE(texts[0].size(), 2048u);
  EXPECT_EQ(texts[0] + texts[1], text);
}

InboundMessage KfCustomerMessage(const std::string& msgid, int64_t send_time_s) {
  nlohmann::json item = {{"msgid", msgid},
                         {"open_kfid", "wk1"},
                         {"external_userid", "wm1"},
                         {"send_time", send_time_s},
                         {"origin", 3},
                         {"msgtype", "text"},
                         {"text", {{"content", "在吗"}}}};
  return KfItemToInbound("main", "ww1", item, send_time_s * 1000);
}

TEST(KfSender, SixthReplyInsideTheWindowIsHeldAndReportedNotSent) {
  Env e;
  WecomApi api(e.app.api_base, e.app.corp_id, e.app.kf_secret, e.http, e.clock);
  KfSender sender(e.app, api, e.clock);
  OutboxDispatcher d(*e.db.writer, *e.db.reads, e.clock, e.db.registry);
  d.AddSender("wecom_kf", "main", &sender);
  ASSERT_TRUE(
      e.db.writer
          ->Run([&](storage::Database& db) {
            return InsertInbound(db, KfCustomerMessage("m1", e.clock.NowUnixSeconds())).status();
          })
          .ok());
  for (int i = 0; i < 6; ++i) {
    Enqueue(e.db,
            Reply("wecom_kf", "wm1", std::string("answer ").append(std::to_string(i)),
                  std::string("kf").append(std::to_string(i)), R"({"open_kfid":"wk1"})"),
            e.clock.NowUnixMs());
    e.clock.Advance(seconds(2));
    d.RunOnce();
  }
  EXPECT_EQ(e.wecom.Count(FakeWecom::kKfSend), 5u);
  auto held =
      e.db.Read([](storage::Database& db) { return ListOutbox(db, OutboxState::kHeld, 10); });
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ((*held)[0].message.content, "answer 5");
  EXPECT_NE((*held)[0].last_error.find("95001"), std::string::npos);
  auto body = e.wecom.Requests(FakeWecom::kKfSend)[0].Json();
  EXPECT_EQ(body["open_kfid"], "wk1");
  EXPECT_LE(body["msgid"].get<std::string>().size(), 32u);
}

TEST(KfSender, SplitPartsCountTowardTheFiveMessageWindowNotRows) {
  Env e;
  WecomApi api(e.app.api_base, e.app.corp_id, e.app.kf_secret, e.http, e.clock);
  KfSender sender(e.app, api, e.clock);
  OutboxDispatcher d(*e.db.writer, *e.db.reads, e.clock, e.db.registry);
  d.AddSender("wecom_kf", "main", &sender);
  ASSERT_TRUE(
      e.db.writer
          ->Run([&](storage::Database& db) {
            return InsertInbound(db, KfCustomerMessage("m1", e.clock.NowUnixSeconds())).status();
          })
          .ok());
  // 2048-byte parts: 4,100 bytes of text are three kf/send_msg calls.
  auto reply = [&](const std::string& key, size_t bytes) {
    Enqueue(e.db, Reply("wecom_kf", "wm1", std::string(bytes, 'a'), key, R"({"open_kfid":"wk1"})"),
            e.clock.NowUnixMs());
    e.clock.Advance(seconds(2));
    d.RunOnce();
  };
  reply("three", 4100);
  EXPECT_EQ(e.wecom.Count(FakeWecom::kKfSend), 3u);
  reply("three-more", 4100);  // 3 + 3 > 5: held, although only one row was sent before
  EXPECT_EQ(e.wecom.Count(FakeWecom::kKfSend), 3u);
  reply("two", 4000);  // 3 + 2 = 5: still allowed
  EXPECT_EQ(e.wecom.Count(FakeWecom::kKfSend), 5u);
  reply("one", 10);  // the window is full
  EXPECT_EQ(e.wecom.Count(FakeWecom::kKfSend), 5u);
  auto held =
      e.db.Read([](storage::Database& db) { return ListOutbox(db, OutboxState::kHeld, 10); });
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 2u);
  EXPECT_EQ((*held)[0].message.idempotency_key, "one");  // newest first
  EXPECT_EQ((*held)[1].message.idempotency_key, "three-more");
  EXPECT_NE((*held)[1].last_error.find("95001"), std::string::npos);
}

TEST(KfSender, AHumanServicersOwnMessageDoesNotReopenTheFiveMessageWindow) {
  Env e;
  WecomApi api(e.app.api_base, e.app.corp_id, e.app.kf_secret, e.http, e.clock);
  KfSender sender(e.app, api, e.clock);
  OutboxDispatcher d(*e.db.writer, *e.db.reads, e.clock, e.db.registry);
  d.AddSender("wecom_kf", "main", &sender);
  auto store = [&](InboundMessage m) {
    ASSERT_TRUE(
        e.db.writer->Run([&](storage::Database& db) { return InsertInbound(db, m).status(); })
            .ok());
  };
  store(KfCustomerMessage("m1", e.clock.NowUnixSeconds()));
  auto reply = [&](int i) {
    Enqueue(e.db,
            Reply("wecom_kf", "wm1", "answer " + std::to_string(i), "kf" + std::to_string(i),
                  R"({"open_kfid":"wk1"})"),
            e.clock.NowUnixMs());
    e.clock.Advance(seconds(2));
    d.RunOnce();
  };
  for (int i = 0; i < 5; ++i)
    reply(i);
  ASSERT_EQ(e.wecom.Count(FakeWecom::kKfSend), 5u);
  // A human agent writes in the WeCom client (sync_msg origin 5): not a customer message.
  nlohmann::json item = {{"msgid", "s1"},
                         {"open_kfid", "wk1"},
                         {"external_userid", "wm1"},
                         {"send_time", e.clock.NowUnixSeconds()},
                         {"origin", 5},
                         {"servicer_userid", "agent1"},
                         {"msgtype", "text"},
                         {"text", {{"content", "我来处理"}}}};
  store(KfItemToInbound("main", "ww1", item, e.clock.NowUnixMs()));
  e.clock.Advance(seconds(2));
  reply(5);
  EXPECT_EQ(e.wecom.Count(FakeWecom::kKfSend), 5u);
  auto held =
      e.db.Read([](storage::Database& db) { return ListOutbox(db, OutboxState::kHeld, 10); });
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 1u);
  EXPECT_NE((*held)[0].last_error.find("95001"), std::string::npos);
}

TEST(KfSender, ReplyAfter48HoursIsHeld) {
  Env e;
  WecomApi api(e.app.api_base, e.app.corp_id, e.app.kf_secret, e.http, e.clock);
  KfSender sender(e.app, api, e.clock);
  OutboxDispatcher d(*e.db.writer, *e.db.reads, e.clock, e.db.registry);
  d.AddSender("wecom_kf", "main", &sender);
  ASSERT_TRUE(
      e.db.writer
          ->Run([&](storage::Database& db) {
            return InsertInbound(db, KfCustomerMessage("m1", e.clock.NowUnixSeconds())).status();
          })
          .ok());
  e.clock.Advance(std::chrono::hours(48) + seconds(1));
  Enqueue(e.db, Reply("wecom_kf", "wm1", "late", "k", R"({"open_kfid":"wk1"})"),
          e.clock.NowUnixMs());
  d.RunOnce();
  EXPECT_EQ(e.wecom.Count(FakeWecom::kKfSend), 0u);
  auto held =
      e.db.Read([](storage::Database& db) { return ListOutbox(db, OutboxState::kHeld, 10); });
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->size(), 1u);
}

// One kf reply to wm1 (customer message m1 stored first), sent through `d`.
OutboxRow OnlyKfRow(TestDb& db) {
  auto rows = db.Read([](storage::Database& d) { return ListOutbox(d, std::nullopt, 10); });
  EXPECT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u);
  return rows->empty() ? OutboxRow{} : (*rows)[0];
}

Result<bool> ApplyFailure(TestDb& db, const std::string& msgid, int fail_type, int64_t event_ms,
                          int64_t now_ms) {
  return db.writer->Call([&](storage::Database& d) {
    return ApplyKfSendFailure(d, "main", "wm1", msgid, fail_type, event_ms, now_ms);
  });
}

TEST(KfSender, TimedOutSendIsNotResentUntilMsgSendFailReportsIt) {
  Env e;
  WecomApi api(e.app.api_base, e.app.corp_id, e.app.kf_secret, e.http, e.clock);
  KfSender sender(e.app, api, e.clock);
  OutboxDispatcher d(*e.db.writer, *e.db.reads, e.clock, e.db.registry);
  d.AddSender("wecom_kf", "main", &sender);
  ASSERT_TRUE(
      e.db.writer
          ->Run([&](storage::Database& db) {
            return InsertInbound(db, KfCustomerMessage("m1", e.clock.NowUnixSeconds())).status();
          })
          .ok());
  Enqueue(e.db, Reply("wecom_kf", "wm1", "answer", "kf-a", R"({"open_kfid":"wk1"})"),
          e.clock.NowUnixMs());
  // The platform receives the request, then the connection drops: maybe delivered.
  e.wecom.Inject(FakeWecom::kKfSend, {Fault::Kind::kDrop, 0, {}});
  d.RunOnce();
  ASSERT_EQ(e.wecom.Count(FakeWecom::kKfSend), 1u);
  std::string msgid = e.wecom.Requests(FakeWecom::kKfSend)[0].Json()["msgid"];
  EXPECT_EQ(msgid, KfMsgId("kf-a", 0));
  OutboxRow row = OnlyKfRow(e.db);
  EXPECT_EQ(row.state, OutboxState::kSent);
  EXPECT_NE(row.last_error.find(msgid), std::string::npos);
  e.clock.Advance(std::chrono::minutes(30));
  d.RunOnce();
  EXPECT_EQ(e.wecom.Count(FakeWecom::kKfSend), 1u);  // no blind resend

  // kf/sync_msg brings msg_send_fail (fail_type 0, unknown) for that msgid: sent again.
  auto applied = ApplyFailure(e.db, msgid, 0, e.clock.NowUnixMs(), e.clock.NowUnixMs());
  ASSERT_TRUE(applied.ok());
  EXPECT_TRUE(*applied);
  d.RunOnce();
  ASSERT_EQ(e.wecom.Count(FakeWecom::kKfSend), 2u);
  EXPECT_EQ(e.wecom.Requests(FakeWecom::kKfSend)[1].Json()["msgid"], msgid);
  EXPECT_EQ(OnlyKfRow(e.db).state, OutboxState::kSent);
  // The same event synced again (cursor rewind) is older than the resend: nothing happens.
  e.clock.Advance(seconds(5));
  auto again = ApplyFailure(e.db, msgid, 0, e.clock.NowUnixMs() - 60'000, e.clock.NowUnixMs());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  d.RunOnce();
  EXPECT_EQ(e.wecom.Count(FakeWecom::kKfSend), 2u);
}

TEST(KfSender, MsgSendFailForQuotaOrWindowHoldsAndOtherFailuresDeadLetter) {
  Env e;
  WecomApi api(e.app.api_base, e.app.corp_id, e.app.kf_secret, e.http, e.clock);
  KfSender sender(e.app, api, e.clock);
  OutboxDispatcher d(*e.db.writer, *e.db.reads, e.clock, e.db.registry);
  d.AddSender("wecom_kf", "main", &sender);
  ASSERT_TRUE(
      e.db.writer
          ->Run([&](storage::Database& db) {
            return InsertInbound(db, KfCustomerMessage("m1", e.clock.NowUnixSeconds())).status();
          })
          .ok());
  Enqueue(e.db, Reply("wecom_kf", "wm1", "answer", "kf-b", R"({"open_kfid":"wk1"})"),
          e.clock.NowUnixMs());
  d.RunOnce();
  ASSERT_EQ(OnlyKfRow(e.db).state, OutboxState::kSent);
  e.clock.Advance(seconds(1));
  auto unknown = ApplyFailure(e.db, "0123456789abcdef0123456789abcdef", 6, e.clock.NowUnixMs(),
                              e.clock.NowUnixMs());
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(*unknown);
  auto held = ApplyFailure(e.db, KfMsgId("kf-b", 0), 6, e.clock.NowUnixMs(), e.clock.NowUnixMs());
  ASSERT_TRUE(held.ok() && *held);
  OutboxRow row = OnlyKfRow(e.db);
  EXPECT_EQ(row.state, OutboxState::kHeld);
  EXPECT_EQ(row.last_error, "msg_send_fail fail_type=6");

  Enqueue(e.db, Reply("wecom_kf", "wm1", "second", "kf-c", R"({"open_kfid":"wk1"})"),
          e.clock.NowUnixMs());
  d.RunOnce();
  e.clock.Advance(seconds(1));
  auto dead = ApplyFailure(e.db, KfMsgId("kf-c", 0), 10, e.clock.NowUnixMs(), e.clock.NowUnixMs());
  ASSERT_TRUE(dead.ok() && *dead);
  auto dead_rows =
      e.db.Read([](storage::Database& db) { return ListOutbox(db, OutboxState::kDead, 10); });
  ASSERT_TRUE(dead_rows.ok());
  ASSERT_EQ(dead_rows->size(), 1u);
  EXPECT_EQ((*dead_rows)[0].message.idempotency_key, "kf-c");
}

TEST(KfSyncer, PagesWhileHasMoreEvenWhenEmptyAndPersistsCursorPerPage) {
  Env e;
  WecomApi api(e.app.api_base, e.app.corp_id, e.app.kf_secret, e.http, e.clock);
  InboundRecorder rec(*e.db.writer, nullptr);
  HttpWorkerPool pool(1);
  KfSyncer syncer("main", "ww1", api, rec, *e.db.reads, pool, e.clock);
  auto item = [](const std::string& id, int origin) {
    return nlohmann::json{{"msgid", id},
                          {"open_kfid", "wk1"},
                          {"external_userid", "wm1"},
                          {"send_time", 1700000000},
                          {"origin", origin},
                          {"msgtype", "text"},
                          {"text", {{"content", std::string("hi ").append(id)}}}};
  };
  e.wecom.QueueSyncPage({{"errcode", 0},
                         {"next_cursor", "c1"},
                         {"has_more", 1},
                         {"msg_list", {item("a", 3), item("b", 3)}}});
  e.wecom.QueueSyncPage({{"errcode", 0},
                         {"next_cursor", "c2"},
                         {"has_more", 1},
                         {"msg_list", nlohmann::json::array()}});
  e.wecom.QueueSyncPage({{"errcode", 0},
                         {"next_cursor", "c3"},
                         {"has_more", 0},
                         {"msg_list", {item("b", 3), item("c", 5)}}});
  auto n = syncer.SyncNow("wk1", "cbtoken");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3);  // a, b, c (the repeated b is deduplicated)
  auto reqs = e.wecom.Requests(FakeWecom::kSyncMsg);
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].Json()["cursor"], "");
  EXPECT_EQ(reqs[0].Json()["token"], "cbtoken");
  EXPECT_EQ(reqs[1].Json()["cursor"], "c1");
  EXPECT_EQ(reqs[2].Json()["cursor"], "c2");
  // A later sync resumes from the persisted cursor.
  ASSERT_TRUE(syncer.SyncNow("wk1", "").ok());
  EXPECT_EQ(e.wecom.Requests(FakeWecom::kSyncMsg)[3].Json()["cursor"], "c3");
  auto rows = e.db.Read([](storage::Database& db) { return LoadUnprocessedInbound(db, 10); });
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[2].message.msg_type, "servicer_message");
  EXPECT_EQ((*rows)[0].message.text, "hi a");
}

}  // namespace
}  // namespace kefu::channels::wecom
