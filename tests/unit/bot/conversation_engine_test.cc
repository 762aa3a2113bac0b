#include "bot/conversation_engine.h"

#include <gtest/gtest.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <atomic>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "storage/database.h"
#include "storage/writer_executor.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/bot/fakes.h"

namespace kefu::bot {
namespace {

using fakes::FakeLedger;
using fakes::FakeMatcher;
using fakes::FakeOutbox;
using fakes::kFakeSchema;

using std::chrono::hours;

class FakeDesk final : public HandoffDesk {
 public:
  ServiceWindow WindowFor(const Conversation&, TimePoint) override { return window; }
  Result<HandoffTicket> OpenHandoff(storage::Database& db, const HandoffRequest& req) override {
    std::string transcript;
    for (const auto& m : req.transcript) {
      transcript += std::string(SenderKindName(m.sender)) + ":" + m.content + "\n";
    }
    KEFU_ASSIGN_OR_RETURN(auto* st, db.Prepare("INSERT INTO fake_tickets (conversation_id, "
                                               "reason, note, transcript) VALUES (?1,?2,?3,?4)"));
    KEFU_RETURN_IF_ERROR(st->BindAll(req.conversation.id.value(),
                                     HandoffReasonName(req.action.reason), req.action.summary_note,
                                     transcript));
    KEFU_RETURN_IF_ERROR(st->Run());
    const TicketId id(db.LastInsertRowId());
    KEFU_ASSIGN_OR_RETURN(const int position, Position(db, id));
    return HandoffTicket{id, position};
  }
  Result<int> QueuePosition(storage::Database& db, const Conversation& c) override {
    if (!c.ticket_id) return Internal("no ticket");
    return Position(db, *c.ticket_id);
  }
  Result<int> Position(storage::Database& db, TicketId id) {
    KEFU_ASSIGN_OR_RETURN(auto* st, db.Prepare("SELECT COUNT(*) FROM fake_tickets WHERE id <= ?1"));
    KEFU_RETURN_IF_ERROR(st->Bind(1, id.value()));
    KEFU_ASSIGN_OR_RETURN(const bool row, st->Step());
    const int n = row ? st->ColumnInt(0) : 0;
    st->Reset();
    return n;
  }
  Status AppendCustomerMessage(storage::Database& db, const Conversation& c,
                               const ConversationMessage& m) override {
    if (!c.ticket_id) return Internal("no ticket");
    KEFU_ASSIGN_OR_RETURN(auto* st, db.Prepare("INSERT INTO fake_ticket_messages VALUES (?1, ?2)"));
    KEFU_RETURN_IF_ERROR(st->BindAll(c.ticket_id->value(), m.content));
    return st->Run();
  }
  void Committed() override { ++committed; }
  std::atomic<int> committed{0};
  ServiceWindow window;
};

MatchCandidate Faq(std::string id, std::string q, double confidence) {
  return {id, q, "答案:" + q, confidence};
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DatabaseOptions o;
    o.path = dir_.File("kefu.db");
    o.synchronous = storage::DatabaseOptions::Synchronous::kNormal;
    auto db = storage::Database::Open(o);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(SqliteConversationStore::Migrate(**db).ok());
    ASSERT_TRUE((*db)->Exec(kFakeSchema).ok());
    writer_ = std::make_unique<storage::WriterExecutor>(std::move(db).value(), registry_);
    matcher_.Set("怎么退款", {Faq("refund", "怎么申请退款", 0.93)});
    matcher_.Set("退钱", {Faq("refund", "怎么申请退款", 0.62), Faq("return", "怎么退货", 0.55),
                          Faq("price", "价格保护", 0.2)});
    MakeEngine(EngineOptions{});
  }

  void MakeEngine(EngineOptions options) {
    engine_.reset();
    engine_ =
        std::make_unique<ConversationEngine>(*writer_, DialoguePolicy(BotOptions{}), matcher_,
                                             ledger_, outbox_, desk_, clock_, registry_, options);
  }

  InboundMessage Text(std::string text, std::string sender = "zhangsan") {
    InboundMessage m;
    m.inbound_id = ++next_id_;
    m.channel = "wecom";
    m.app = "shop";
    m.sender = std::move(sender);
    m.msg_type = "text";
    m.text = std::move(text);
    m.platform_msg_id = "p" + std::to_string(m.inbound_id);
    m.platform_time_ms = clock_.NowUnixMs();
    return m;
  }

  EngineOutcome Process(const InboundMessage& m) {
    auto r = engine_->ProcessNow(m);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : EngineOutcome{};
  }

  // Rows of a one-column query.
  std::vector<std::string> Column(const std::string& sql) {
    std::vector<std::string> out;
    EXPECT_TRUE(writer_
                    ->Run([&](storage::Database& db) -> Status {
                      KEFU_ASSIGN_OR_RETURN(auto* st, db.Prepare(sql));
                      while (true) {
                        KEFU_ASSIGN_OR_RETURN(const bool row, st->Step());
                        if (!row) break;
                        out.push_back(st->ColumnText(0));
                      }
                      return Status::Ok();
                    })
                    .ok());
    return out;
  }

  std::vector<ConversationMessage> Messages(ConversationId id) {
    std::vector<ConversationMessage> out;
    EXPECT_TRUE(writer_
                    ->Run([&](storage::Database& db) -> Status {
                      KEFU_ASSIGN_OR_RETURN(out, engine_->store().ListMessages(db, id));
                      return Status::Ok();
                    })
                    .ok());
    return out;
  }

  testing::TempDir dir_;
  prometheus::Registry registry_;
  FakeClock clock_;
  FakeMatcher matcher_;
  FakeLedger ledger_;
  FakeOutbox outbox_;
  FakeDesk desk_;
  std::unique_ptr<storage::WriterExecutor> writer_;
  std::unique_ptr<ConversationEngine> engine_;
  int64_t next_id_ = 0;
};

TEST_F(EngineTest, KnownQuestionIsAnsweredThroughTheOutbox) {
  const EngineOutcome out = Process(Text("怎么退款"));
  EXPECT_EQ(out.state, ConversationState::kBot);
  EXPECT_EQ(Column("SELECT purpose FROM fake_outbox ORDER BY id"),
            (std::vector<std::string>{"greeting", "answer", "feedback_question"}));
  EXPECT_EQ(Column("SELECT text FROM fake_outbox WHERE purpose = 'answer'"),
            (std::vector<std::string>{"答案:怎么申请退款"}));
  EXPECT_EQ(Column("SELECT idempotency_key FROM fake_outbox ORDER BY id").front(), "bot:1:0");
  EXPECT_EQ(Column("SELECT id FROM fake_inbound"), (std::vector<std::string>{"1"}));
  const auto msgs = Messages(out.conversation_id);
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(msgs[0].sender, SenderKind::kCustomer);
  EXPECT_EQ(msgs[0].content, "怎么退款");
  EXPECT_EQ(msgs[0].platform_msg_id, "p1");
  EXPECT_EQ(msgs[2].sender, SenderKind::kBot);
  EXPECT_EQ(msgs[2].type, "markdown");
  EXPECT_EQ(Column("SELECT message_id FROM fake_outbox ORDER BY id").back(),
            std::to_string(msgs[3].id.value()));
}

TEST_F(EngineTest, OutboxIsToldOnlyOnceTheRepliesAreCommitted) {
  // A sender woken before COMMIT reads no row and sleeps until its next poll: the hook must run
  // when another connection can already see the replies.
  storage::DatabaseOptions o;
  o.path = dir_.File("kefu.db");
  o.read_only = true;
  auto reader = storage::Database::Open(o);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  std::atomic<int> visible{-1};
  outbox_.on_committed = [&] {
    auto st = (*reader)->Prepare("SELECT COUNT(*) FROM fake_outbox");
    if (!st.ok()) return;
    auto row = (*st)->Step();
    visible = row.ok() && *row ? (*st)->ColumnInt(0) : -2;
    (*st)->Reset();
  };
  Process(Text("怎么退款"));
  EXPECT_EQ(outbox_.committed.load(), 1);
  EXPECT_EQ(visible.load(), 3);  // greeting, answer, feedback question

  outbox_.fail = true;  // a message whose replies roll back tells nobody
  auto failed = engine_->ProcessNow(Text("怎么退款", "lisi"));
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(outbox_.committed.load(), 1);
}

TEST_F(EngineTest, AmbiguousQuestionSuggestsAndTwoPicksTheSecond) {
  Process(Text("退钱"));
  EXPECT_EQ(Column("SELECT purpose FROM fake_outbox ORDER BY id").back(), "suggestions");
  const EngineOutcome out = Process(Text("2"));
  ASSERT_FALSE(out.replies.empty());
  EXPECT_EQ(out.replies[0].purpose, ReplyPurpose::kAnswer);
  EXPECT_EQ(out.replies[0].text, "答案:怎么退货");
}

TEST_F(EngineTest, HandoffOpensATicketWithTranscriptAndTellsTheQueuePosition) {
  Process(Text("怎么退款"));
  const EngineOutcome out = Process(Text("转人工"));
  EXPECT_EQ(out.state, ConversationState::kWaitingAgent);
  ASSERT_TRUE(out.ticket_id.has_value());
  EXPECT_EQ(Column("SELECT reason FROM fake_tickets"), (std::vector<std::string>{"keyword"}));
  const std::string transcript = Column("SELECT transcript FROM fake_tickets").front();
  EXPECT_EQ(transcript.substr(0, transcript.find('\n')), "customer:怎么退款");
  EXPECT_NE(transcript.find("bot:答案:怎么申请退款"), std::string::npos);
  EXPECT_NE(transcript.find("customer:转人工"), std::string::npos);
  const std::string note = Column("SELECT note FROM fake_tickets").front();
  EXPECT_NE(note.find("客户最后的问题：怎么退款"), std::string::npos);
  EXPECT_NE(note.find("[refund] 怎么申请退款（置信度 0.93）"), std::string::npos);
  EXPECT_NE(Column("SELECT text FROM fake_outbox ORDER BY id").back().find("排在第 1 位"),
            std::string::npos);

  // A second customer queues behind the first.
  const EngineOutcome other = Process(Text("人工客服", "lisi"));
  EXPECT_NE(Column("SELECT text FROM fake_outbox ORDER BY id").back().find("排在第 2 位"),
            std::string::npos);
  EXPECT_NE(other.conversation_id, out.conversation_id);

  // While waiting the bot is silent and the agent gets the messages.
  const auto outbox_rows = Column("SELECT id FROM fake_outbox").size();
  Process(Text("在吗？"));
  EXPECT_EQ(Column("SELECT id FROM fake_outbox").size(), outbox_rows);
  EXPECT_EQ(Column("SELECT content FROM fake_ticket_messages"),
            (std::vector<std::string>{"在吗？"}));
  EXPECT_EQ(desk_.committed.load(), 3);  // two hand-offs and one forwarded message
  // Asking again repeats the position without a second ticket.
  Process(Text("转人工"));
  EXPECT_EQ(Column("SELECT id FROM fake_tickets").size(), 2u);
  EXPECT_NE(Column("SELECT text FROM fake_outbox ORDER BY id").back().find("排在第 1 位"),
            std::string::npos);
}

TEST_F(EngineTest, TwoMissesInARowHandOff) {
  EXPECT_EQ(Process(Text("火星快递几天到")).state, ConversationState::kBot);
  EXPECT_EQ(Column("SELECT purpose FROM fake_outbox ORDER BY id").back(), "not_understood");
  const EngineOutcome out = Process(Text("木星快递几天到"));
  EXPECT_EQ(out.state, ConversationState::kWaitingAgent);
  EXPECT_EQ(Column("SELECT reason FROM fake_tickets"),
            (std::vector<std::string>{"consecutive_misses"}));
}

TEST_F(EngineTest, RedeliveryIsProcessedOnce) {
  const InboundMessage m = Text("怎么退款");
  Process(m);
  const EngineOutcome again = Process(m);
  EXPECT_TRUE(again.duplicate);
  InboundMessage same_platform_id = m;
  same_platform_id.inbound_id = 99;
  EXPECT_TRUE(Process(same_platform_id).duplicate);
  EXPECT_EQ(Column("SELECT id FROM fake_outbox WHERE purpose = 'answer'").size(), 1u);
}

TEST_F(EngineTest, AFailingOutboxLeavesNothingBehindAndTheRetrySucceeds) {
  outbox_.fail = true;
  const InboundMessage m = Text("怎么退款");
  EXPECT_EQ(engine_->ProcessNow(m).status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Column("SELECT id FROM fake_inbound").empty());
  EXPECT_TRUE(Column("SELECT id FROM conversation_messages").empty());
  EXPECT_TRUE(Column("SELECT id FROM customers").empty());
  outbox_.fail = false;
  EXPECT_FALSE(Process(m).duplicate);
  EXPECT_EQ(Column("SELECT id FROM fake_outbox").size(), 3u);
}

TEST_F(EngineTest, OutsideServiceHoursTheCustomerHearsWhenServiceResumes) {
  desk_.window = {false, clock_.Now() + hours(1)};  // FakeClock starts at 08:00 Shanghai
  const EngineOutcome out = Process(Text("转人工"));
  EXPECT_EQ(out.state, ConversationState::kWaitingAgent);
  EXPECT_EQ(Column("SELECT id FROM fake_tickets").size(), 1u);
  EXPECT_NE(Column("SELECT text FROM fake_outbox ORDER BY id").back().find("今天 09:00"),
            std::string::npos);
}

TEST_F(EngineTest, ImageAndEmptyTextGetHelpWithoutTheMatcher) {
  InboundMessage img = Text("");
  img.msg_type = "image";
  Process(img);
  Process(Text("😀😀"));
  EXPECT_EQ(Column("SELECT purpose FROM fake_outbox ORDER BY id"),
            (std::vector<std::string>{"greeting", "text_only", "empty_prompt"}));
  EXPECT_EQ(matcher_.calls.load(), 0);
  const auto stored = Column("SELECT content FROM conversation_messages ORDER BY id");
  EXPECT_EQ(stored.front(), "[image]");
}

TEST_F(EngineTest, SubmittedMessagesOfAConversationAreProcessedInOrder) {
  EngineOptions two_workers;
  two_workers.workers = 2;
  MakeEngine(two_workers);
  std::vector<std::string> expected_a, expected_b;
  for (int i = 0; i < 40; ++i) {
    const std::string text = "问题" + std::to_string(i);
    engine_->Submit(Text(text, i % 2 == 0 ? "a" : "b"));
    (i % 2 == 0 ? expected_a : expected_b).push_back(text);
  }
  engine_->Drain();
  EXPECT_EQ(Column("SELECT id FROM fake_inbound").size(), 40u);
  for (const auto& [sender, expected] :
       {std::pair{std::string("a"), expected_a}, std::pair{std::string("b"), expected_b}}) {
    const auto got = Column(
        "SELECT m.content FROM conversation_messages m JOIN conversations c ON c.id = "
        "m.conversation_id JOIN customers u ON u.id = c.customer_id WHERE u.external_id = '" +
        sender + "' AND m.direction = 'in' ORDER BY m.seq");
    // After two misses the conversation waits for an agent; every message is still recorded
    // in order.
    EXPECT_EQ(got, expected) << sender;
  }
}

// Total of a counter family, or the sample count of a histogram, in `registry`.
double MetricTotal(prometheus::Registry& registry, const std::string& name) {
  double sum = 0;
  for (const auto& f : registry.Collect()) {
    if (f.name != name) continue;
    for (const auto& m : f.metric) {
      sum += f.type == prometheus::MetricType::Histogram
                 ? static_cast<double>(m.histogram.sample_count)
                 : m.counter.value;
    }
  }
  return sum;
}

TEST_F(EngineTest, MessagesOfManyConversationsWaitingForTheWriterShareOneWriterJob) {
  // Hold the writer so that every submitted message is matched and waiting before it runs.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> holding;
  writer_->Post([&holding, released](storage::Database&) {
    holding.set_value();
    released.wait();
    return Status::Ok();
  });
  holding.get_future().wait();
  const double jobs_before = MetricTotal(registry_, "kefu_storage_writer_jobs_total");
  for (int i = 0; i < 30; ++i)
    engine_->Submit(Text("怎么退款", "customer-" + std::to_string(i)));
  // The matches finish on the worker while the writer is held; then one job takes them all.
  while (MetricTotal(registry_, "kefu_bot_match_seconds") < 30)
    std::this_thread::yield();
  release.set_value();
  engine_->Drain();
  const double jobs = MetricTotal(registry_, "kefu_storage_writer_jobs_total") - jobs_before;
  // The holding job plus one bot job (two when the last match was queued after the release).
  EXPECT_LE(jobs, 3.0);
  EXPECT_EQ(MetricTotal(registry_, "kefu_bot_batch_messages"), jobs - 1);
  EXPECT_EQ(Column("SELECT id FROM fake_inbound").size(), 30u);
  EXPECT_EQ(Column("SELECT id FROM fake_outbox WHERE purpose = 'answer'").size(), 30u);
}

TEST_F(EngineTest, AFailingMessageInABatchLeavesItsInboundUnprocessedAndKeepsTheOthers) {
  outbox_.fail_destination = "unlucky";
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> holding;
  writer_->Post([&holding, released](storage::Database&) {
    holding.set_value();
    released.wait();
    return Status::Ok();
  });
  holding.get_future().wait();
  std::vector<std::pair<int64_t, Status>> finished;
  std::mutex finished_mu;
  EngineOptions o;
  o.on_finished = [&](const Status& s, int64_t id) {
    std::lock_guard lock(finished_mu);
    finished.emplace_back(id, s);
  };
  MakeEngine(o);
  const InboundMessage first = Text("怎么退款", "lucky-1");
  const InboundMessage bad = Text("怎么退款", "unlucky");
  const InboundMessage last = Text("怎么退款", "lucky-2");
  for (const auto& m : {first, bad, last})
    engine_->Submit(m);
  while (MetricTotal(registry_, "kefu_bot_match_seconds") < 3)
    std::this_thread::yield();
  release.set_value();
  engine_->Drain();
  EXPECT_EQ(Column("SELECT id FROM fake_inbound ORDER BY id"),
            (std::vector<std::string>{std::to_string(first.inbound_id),
                                      std::to_string(last.inbound_id)}));
  EXPECT_TRUE(Column("SELECT id FROM customers WHERE external_id = 'unlucky'").empty());
  EXPECT_EQ(Column("SELECT DISTINCT destination FROM fake_outbox ORDER BY destination"),
            (std::vector<std::string>{"lucky-1", "lucky-2"}));
  std::lock_guard lock(finished_mu);
  ASSERT_EQ(finished.size(), 3u);
  for (const auto& [id, s] : finished) {
    EXPECT_EQ(s.ok(), id != bad.inbound_id) << id << " " << s.ToString();
  }
}

}  // namespace
}  // namespace kefu::bot
