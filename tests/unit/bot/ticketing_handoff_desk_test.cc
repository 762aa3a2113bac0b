#include "bot/ticketing_handoff_desk.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bot/conversation_engine.h"
#include "storage/read_pool.h"
#include "storage/writer_executor.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/bot/fakes.h"
#include "ticketing/sqlite_ticket_store.h"

namespace kefu::bot {
namespace {

using std::chrono::hours;

class HandoffDeskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DatabaseOptions o;
    o.path = dir_.File("kefu.db");
    o.synchronous = storage::DatabaseOptions::Synchronous::kNormal;
    auto db = storage::Database::Open(o);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(SqliteConversationStore::Migrate(**db).ok());
    ASSERT_TRUE(ticketing::SqliteTicketStore::Migrate(**db).ok());
    ASSERT_TRUE((*db)->Exec(fakes::kFakeSchema).ok());
    writer_ = std::make_unique<storage::WriterExecutor>(std::move(db).value(), registry_);
    auto reads = storage::ReadPool::Open(o, 2);
    ASSERT_TRUE(reads.ok());
    reads_ = std::move(reads).value();
    tickets_ = std::make_unique<ticketing::SqliteTicketStore>(*writer_, *reads_);
    auto policies = ticketing::SlaPolicySet::Create({}, {});
    ASSERT_TRUE(policies.ok()) << policies.status().ToString();
    service_ = std::make_unique<ticketing::TicketService>(
        *tickets_, clock_, *policies, ticketing::TicketServiceOptions{}, registry_);
    ticketing::CalendarSpec spec;
    spec.name = "office";
    for (int d = 0; d < 7; ++d)
      spec.weekly[static_cast<size_t>(d)] = {"09:00-21:00"};
    auto calendar = ticketing::BusinessCalendar::Create(spec);
    ASSERT_TRUE(calendar.ok());
    TicketingHandoffOptions options;
    options.group = "after-sales";
    options.calendar = *calendar;
    desk_ = std::make_unique<TicketingHandoffDesk>(*service_, *writer_, clock_, options);
    matcher_.Set("怎么退款", {{"refund", "怎么申请退款", "在订单页申请退款", 0.95}});
    engine_ = std::make_unique<ConversationEngine>(*writer_, DialoguePolicy(BotOptions{}), matcher_,
                                                   ledger_, outbox_, *desk_, clock_, registry_);
    clock_.Advance(hours(2));  // 10:00 in Shanghai: open
  }

  void TearDown() override {
    engine_.reset();
    desk_.reset();
  }

  EngineOutcome Say(std::string text, std::string sender = "zhangsan") {
    InboundMessage m;
    m.inbound_id = ++next_id_;
    m.channel = "wecom";
    m.app = "shop";
    m.sender = std::move(sender);
    m.msg_type = "text";
    m.text = std::move(text);
    auto r = engine_->ProcessNow(m);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : EngineOutcome{};
  }

  std::string LastOutboxText() {
    std::string text;
    EXPECT_TRUE(writer_
                    ->Run([&](storage::Database& db) -> Status {
                      KEFU_ASSIGN_OR_RETURN(
                          auto* st, db.Prepare("SELECT text FROM fake_outbox ORDER BY id DESC"));
                      KEFU_ASSIGN_OR_RETURN(const bool row, st->Step());
                      if (row) text = st->ColumnText(0);
                      st->Reset();
                      return Status::Ok();
                    })
                    .ok());
    return text;
  }

  // (purpose, text) of every outbox row addressed to `destination`, oldest first.
  std::vector<std::pair<std::string, std::string>> Outbox(const std::string& destination) {
    std::vector<std::pair<std::string, std::string>> rows;
    EXPECT_TRUE(writer_
                    ->Run([&](storage::Database& db) -> Status {
                      KEFU_ASSIGN_OR_RETURN(auto* st,
                                            db.Prepare("SELECT purpose, text FROM fake_outbox "
                                                       "WHERE destination = ?1 ORDER BY id"));
                      KEFU_RETURN_IF_ERROR(st->Bind(1, destination));
                      while (true) {
                        KEFU_ASSIGN_OR_RETURN(const bool row, st->Step());
                        if (!row) break;
                        rows.emplace_back(st->ColumnText(0), st->ColumnText(1));
                      }
                      st->Reset();
                      return Status::Ok();
                    })
                    .ok());
    return rows;
  }

  std::optional<Conversation> Find(ConversationId id) {
    std::optional<Conversation> c;
    EXPECT_TRUE(writer_
                    ->Run([&](storage::Database& db) -> Status {
                      KEFU_ASSIGN_OR_RETURN(c, SqliteConversationStore{}.FindConversation(db, id));
                      return Status::Ok();
                    })
                    .ok());
    return c;
  }

  testing::TempDir dir_;
  prometheus::Registry registry_;
  FakeClock clock_;
  fakes::FakeMatcher matcher_;
  fakes::FakeLedger ledger_;
  fakes::FakeOutbox outbox_;
  std::unique_ptr<storage::WriterExecutor> writer_;
  std::unique_ptr<storage::ReadPool> reads_;
  std::unique_ptr<ticketing::SqliteTicketStore> tickets_;
  std::unique_ptr<ticketing::TicketService> service_;
  std::unique_ptr<TicketingHandoffDesk> desk_;
  std::unique_ptr<ConversationEngine> engine_;
  int64_t next_id_ = 0;
};

TEST_F(HandoffDeskTest, HandoffOpensATicketWithSummaryNoteTranscriptAndGroup) {
  Say("怎么退款");
  const EngineOutcome out = Say("转人工");
  EXPECT_EQ(out.state, ConversationState::kWaitingAgent);
  EXPECT_NE(LastOutboxText().find("排在第 1 位"), std::string::npos);
  ASSERT_TRUE(desk_->DrainForTest().ok());

  const auto conv = Find(out.conversation_id);
  ASSERT_TRUE(conv && conv->ticket_id.has_value());
  auto ticket = service_->store().Get(*conv->ticket_id);
  ASSERT_TRUE(ticket.ok()) << ticket.status().ToString();
  EXPECT_EQ(ticket->requester, "zhangsan");
  EXPECT_EQ(ticket->channel, "wecom");
  EXPECT_EQ(ticket->group, "after-sales");
  EXPECT_EQ(ticket->conversation, out.conversation_id);
  auto events = service_->store().Events(ticket->id);
  ASSERT_TRUE(events.ok());
  std::string all;
  for (const auto& e : *events)
    all += e.body + "\n";
  EXPECT_NE(all.find("【机器人摘要】"), std::string::npos);
  EXPECT_NE(all.find("[refund] 怎么申请退款（置信度 0.95）"), std::string::npos);
  EXPECT_NE(all.find("客户：怎么退款\n机器人："), std::string::npos);
  EXPECT_NE(all.find("客户：转人工"), std::string::npos);
}

TEST_F(HandoffDeskTest, QueuePositionCountsCustomersAhead) {
  Say("转人工", "a");
  ASSERT_TRUE(desk_->DrainForTest().ok());
  Say("人工客服", "b");
  EXPECT_NE(LastOutboxText().find("排在第 2 位"), std::string::npos);
  Say("转人工", "c");  // b's ticket is still only queued
  EXPECT_NE(LastOutboxText().find("排在第 3 位"), std::string::npos);
  ASSERT_TRUE(desk_->DrainForTest().ok());
  // b asks again once all tickets exist: still second.
  Say("转人工", "b");
  EXPECT_NE(LastOutboxText().find("排在第 2 位"), std::string::npos);
}

TEST_F(HandoffDeskTest, MessagesWhileWaitingReachTheTicket) {
  const EngineOutcome out = Say("转人工");
  Say("订单号 123456");
  ASSERT_TRUE(desk_->DrainForTest().ok());
  const auto conv = Find(out.conversation_id);
  ASSERT_TRUE(conv && conv->ticket_id);
  auto events = service_->store().Events(*conv->ticket_id);
  ASSERT_TRUE(events.ok());
  bool found = false;
  for (const auto& e : *events)
    found = found || e.body == "订单号 123456";
  EXPECT_TRUE(found);
  auto all = service_->store().List({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);  // the follow-up message did not open a second ticket
}

TEST_F(HandoffDeskTest, TheAgentIsAnnouncedWhenAssignedAndASolvedTicketGivesItBackToTheBot) {
  const EngineOutcome out = Say("转人工");
  ASSERT_TRUE(desk_->DrainForTest().ok());
  const TicketId ticket = *Find(out.conversation_id)->ticket_id;
  // Still unassigned and still first: silent.
  EXPECT_TRUE(Say("有人吗").replies.empty());

  ticketing::TicketUpdate take;
  take.assignee = "王小明";
  take.status = ticketing::TicketStatus::kOpen;
  ASSERT_TRUE(service_->Update(ticket, take, ticketing::Actor::Agent("王小明")).ok());
  engine_->Drain();
  // Pushed at assignment, without a customer message.
  const auto pushed = Outbox("zhangsan");
  ASSERT_FALSE(pushed.empty());
  EXPECT_EQ(pushed.back().first, "agent_joined");
  EXPECT_NE(pushed.back().second.find("王小明"), std::string::npos);
  EXPECT_EQ(Find(out.conversation_id)->state(), ConversationState::kWithAgent);
  EXPECT_TRUE(Say("你好").replies.empty());  // announced once
  // Later ticket changes (a note) do not announce again.
  ASSERT_TRUE(service_
                  ->Comment(ticket, ticketing::CommentKind::kInternalNote, "查一下订单",
                            ticketing::Actor::Agent("王小明"))
                  .ok());
  engine_->Drain();
  EXPECT_EQ(Outbox("zhangsan").size(), pushed.size());

  ticketing::TicketUpdate solve;
  solve.status = ticketing::TicketStatus::kSolved;
  ASSERT_TRUE(service_->Update(ticket, solve, ticketing::Actor::Agent("王小明")).ok());
  const EngineOutcome back = Say("怎么退款");
  EXPECT_EQ(back.state, ConversationState::kBot);
  ASSERT_FALSE(back.replies.empty());
  EXPECT_EQ(back.replies[0].purpose, ReplyPurpose::kAnswer);
}

TEST_F(HandoffDeskTest, QueueMovesArePushedToTheCustomersStillWaiting) {
  const EngineOutcome a = Say("转人工", "a");
  Say("转人工", "b");
  Say("转人工", "c");
  ASSERT_TRUE(desk_->DrainForTest().ok());
  engine_->Drain();
  ASSERT_EQ(Outbox("c").size(), 2u);  // greeting + "排在第 3 位"
  EXPECT_NE(Outbox("c").back().second.find("排在第 3 位"), std::string::npos);

  ticketing::TicketUpdate take;
  take.assignee = "agent1";
  ASSERT_TRUE(
      service_->Update(*Find(a.conversation_id)->ticket_id, take, ticketing::Actor::Agent("agent1"))
          .ok());
  engine_->Drain();
  EXPECT_EQ(Outbox("a").back().first, "agent_joined");
  ASSERT_EQ(Outbox("b").back().first, "queue_update");
  EXPECT_NE(Outbox("b").back().second.find("排在第 1 位"), std::string::npos);
  ASSERT_EQ(Outbox("c").back().first, "queue_update");
  EXPECT_NE(Outbox("c").back().second.find("排在第 2 位"), std::string::npos);
  // Told once per move: a message while the position is unchanged gets no reply.
  const size_t told = Outbox("c").size();
  EXPECT_TRUE(Say("还要等多久", "c").replies.empty());
  EXPECT_EQ(Outbox("c").size(), told);
}

TEST_F(HandoffDeskTest, AMessageWhileWaitingHearsThePositionWhenItMovedUnannounced) {
  BotOptions quiet;
  quiet.queue_update_near = 0;  // pushes off: only the customer's own message tells them
  quiet.queue_update_step = 0;
  engine_.reset();
  engine_ = std::make_unique<ConversationEngine>(*writer_, DialoguePolicy(quiet), matcher_, ledger_,
                                                 outbox_, *desk_, clock_, registry_);
  const EngineOutcome a = Say("转人工", "a");
  Say("转人工", "b");
  ASSERT_TRUE(desk_->DrainForTest().ok());
  ticketing::TicketUpdate take;
  take.assignee = "agent1";
  ASSERT_TRUE(
      service_->Update(*Find(a.conversation_id)->ticket_id, take, ticketing::Actor::Agent("agent1"))
          .ok());
  engine_->Drain();
  EXPECT_NE(Outbox("b").back().second.find("排在第 2 位"), std::string::npos);
  const EngineOutcome b = Say("还要等多久", "b");
  ASSERT_EQ(b.replies.size(), 1u);
  EXPECT_EQ(b.replies[0].purpose, ReplyPurpose::kQueueUpdate);
  EXPECT_NE(b.replies[0].text.find("排在第 1 位"), std::string::npos);
  EXPECT_TRUE(Say("好的", "b").replies.empty());
}

TEST_F(HandoffDeskTest, OutsideServiceHoursTheTicketStillOpens) {
  clock_.Advance(hours(12));  // 22:00 in Shanghai
  const EngineOutcome out = Say("转人工");
  EXPECT_NE(LastOutboxText().find("明天 09:00"), std::string::npos);
  ASSERT_TRUE(desk_->DrainForTest().ok());
  EXPECT_TRUE(Find(out.conversation_id)->ticket_id.has_value());
}

TEST_F(HandoffDeskTest, TheWorkerOpensTicketsAfterTheCommit) {
  desk_->Start();
  const EngineOutcome out = Say("转人工");
  engine_->Drain();
  for (int i = 0; i < 500 && !Find(out.conversation_id)->ticket_id; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // a real thread, not a timer
  }
  EXPECT_TRUE(Find(out.conversation_id)->ticket_id.has_value());
  desk_->Stop();
}

}  // namespace
}  // namespace kefu::bot
