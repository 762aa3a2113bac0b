#include "bot/sqlite_conversation_store.h"

#include <gtest/gtest.h>

#include <memory>

#include "storage/database.h"
#include "tests/support/temp_dir.h"

namespace kefu::bot {
namespace {

const TimePoint kT0 = FromUnixSeconds(1'767'225'600);

class ConversationStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::DatabaseOptions o;
    o.path = dir_.File("kefu.db");
    auto db = storage::Database::Open(o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_TRUE(SqliteConversationStore::Migrate(*db_).ok());
  }

  Customer MakeCustomer(std::string external_id, std::string app = "shop") {
    auto c = store_.UpsertCustomer(*db_, {"wecom", std::move(app), std::move(external_id)}, "张三",
                                   "wecom:text", kT0);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return *c;
  }

  ConversationMessage Inbound(ConversationId conv, std::string text, std::string platform_id) {
    ConversationMessage m;
    m.conversation_id = conv;
    m.direction = Direction::kInbound;
    m.sender = SenderKind::kCustomer;
    m.type = "text";
    m.content = std::move(text);
    m.platform_msg_id = std::move(platform_id);
    m.platform_time = kT0;
    return m;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::Database> db_;
  SqliteConversationStore store_;
};

TEST_F(ConversationStoreTest, MigratingAgainIsANoOp) {
  EXPECT_TRUE(SqliteConversationStore::Migrate(*db_).ok());
  auto v = storage::SchemaVersion(*db_, "bot");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 4);
}

TEST_F(ConversationStoreTest, CustomerKeepsFirstSeenSourceAndTakesTheLatestDisplayName) {
  const Customer a = MakeCustomer("u1");
  auto again = store_.UpsertCustomer(*db_, {"wecom", "shop", "u1"}, "张三丰", "dingtalk:event",
                                     kT0 + std::chrono::seconds(5));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, a.id);
  EXPECT_EQ(again->display_name, "张三丰");
  EXPECT_EQ(again->first_seen_source, "wecom:text");
  auto unnamed = store_.UpsertCustomer(*db_, {"wecom", "shop", "u1"}, "", "", kT0);
  ASSERT_TRUE(unnamed.ok());
  EXPECT_EQ(unnamed->display_name, "张三丰");
  const Customer other_app = MakeCustomer("u1", "hr");
  EXPECT_NE(other_app.id, a.id);
}

TEST_F(ConversationStoreTest, EmptyIdentityIsRejectedNamingTheField) {
  auto r = store_.UpsertCustomer(*db_, {"wecom", "shop", ""}, "", "", kT0);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("external_id"), std::string::npos);
}

TEST_F(ConversationStoreTest, OneConversationPerCustomerAndAppStartingWithTheBot) {
  const Customer c = MakeCustomer("u1");
  auto a = store_.OpenConversation(*db_, c, kT0);
  auto b = store_.OpenConversation(*db_, c, kT0 + std::chrono::minutes(1));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->id, b->id);
  EXPECT_EQ(a->state(), ConversationState::kBot);
  EXPECT_EQ(a->dialogue, DialogueState{});
}

TEST_F(ConversationStoreTest, DialogueStateAndTicketRoundTrip) {
  auto conv = store_.OpenConversation(*db_, MakeCustomer("u1"), kT0);
  ASSERT_TRUE(conv.ok());
  conv->dialogue.state = ConversationState::kWaitingAgent;
  conv->dialogue.greeted = true;
  conv->dialogue.last_greeted_at = kT0;
  conv->dialogue.pending_suggestions = {{"faq-1", "怎么退款", "答案", 0.6}};
  conv->dialogue.consecutive_misses = 1;
  conv->dialogue.awaiting_feedback = true;
  conv->dialogue.last_answered_faq_id = "faq-9";
  conv->dialogue.last_question = "退款多久到账";
  conv->dialogue.last_tried = {{"faq-1", "怎么退款", "", 0.6}};
  conv->dialogue.announced_position = 3;
  conv->ticket_id = TicketId(42);
  conv->reply_context = R"({"touser":"u1","agent_id":"1000002"})";
  ASSERT_TRUE(store_.UpdateConversation(*db_, *conv).ok());
  auto read = store_.FindConversation(*db_, conv->id);
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->dialogue, conv->dialogue);
  EXPECT_EQ((*read)->ticket_id, TicketId(42));
  EXPECT_EQ((*read)->reply_context, conv->reply_context);
  Conversation missing = *conv;
  missing.id = ConversationId(999);
  EXPECT_EQ(store_.UpdateConversation(*db_, missing).code(), StatusCode::kNotFound);
}

TEST_F(ConversationStoreTest, MessagesGetConsecutiveSeqAndARedeliveryIsRefused) {
  auto conv = store_.OpenConversation(*db_, MakeCustomer("u1"), kT0);
  ASSERT_TRUE(conv.ok());
  auto m1 = store_.AppendMessage(*db_, Inbound(conv->id, "你好", "p1"), kT0);
  ConversationMessage reply;
  reply.conversation_id = conv->id;
  reply.direction = Direction::kOutbound;
  reply.sender = SenderKind::kBot;
  reply.type = "text";
  reply.content = "您好";
  auto m2 = store_.AppendMessage(*db_, reply, kT0);
  auto m3 = store_.AppendMessage(*db_, reply, kT0);  // bot replies carry no platform id
  ASSERT_TRUE(m1.ok() && m2.ok() && m3.ok()) << m2.status().ToString();
  EXPECT_EQ(m1->seq, 1);
  EXPECT_EQ(m2->seq, 2);
  EXPECT_EQ(m3->seq, 3);
  auto dup = store_.AppendMessage(*db_, Inbound(conv->id, "你好", "p1"), kT0);
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  auto m4 = store_.AppendMessage(*db_, Inbound(conv->id, "退款", "p2"), kT0);
  ASSERT_TRUE(m4.ok());
  EXPECT_EQ(m4->seq, 4);  // the refused duplicate did not consume a seq

  auto all = store_.ListMessages(*db_, conv->id);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].content, "你好");
  EXPECT_EQ((*all)[0].direction, Direction::kInbound);
  EXPECT_EQ((*all)[0].platform_time, kT0);
  EXPECT_EQ((*all)[1].sender, SenderKind::kBot);
  EXPECT_EQ((*all)[3].content, "退款");
  auto conv_after = store_.FindConversation(*db_, conv->id);
  EXPECT_EQ((*conv_after)->message_count, 4);
  auto tail = store_.ListMessages(*db_, conv->id, 2, 10);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ((*tail)[0].seq, 3);
}

TEST_F(ConversationStoreTest, ListFiltersByStateChannelAndCustomerNewestFirst) {
  const Customer a = MakeCustomer("a");
  const Customer b = MakeCustomer("b");
  auto ca = store_.OpenConversation(*db_, a, kT0);
  auto cb = store_.OpenConversation(*db_, b, kT0);
  ASSERT_TRUE(ca.ok() && cb.ok());
  cb->dialogue.state = ConversationState::kWaitingAgent;
  ASSERT_TRUE(store_.UpdateConversation(*db_, *cb).ok());

  ConversationFilter f;
  auto all = store_.ListConversations(*db_, f);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, cb->id);
  f.state = ConversationState::kWaitingAgent;
  auto waiting = store_.ListConversations(*db_, f);
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_EQ((*waiting)[0].customer_id, b.id);
  f = {};
  f.customer_id = a.id;
  EXPECT_EQ(store_.ListConversations(*db_, f)->size(), 1u);
  f = {};
  f.channel = "dingtalk";
  EXPECT_TRUE(store_.ListConversations(*db_, f)->empty());
  f = {};
  f.before_id = cb->id.value();
  auto page = store_.ListConversations(*db_, f);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, ca->id);
  f.limit = 0;
  EXPECT_EQ(store_.ListConversations(*db_, f).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kefu::bot
