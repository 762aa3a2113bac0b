// SqliteConversationStore: customers, conversations and messages in SQLite (module "bot"
// migrations). Tables: customers, conversations, conversation_messages,
// faq_feedback.
//
// Every method works on the connection it is given and opens no transaction of its own, so the
// conversation engine can run several of them, the outbox insert and the inbound "processed" mark
// inside ONE WriterExecutor job. Read methods also work on ReadPool connections. Stateless and
// thread-safe; each Database is used by one thread at a time (storage's rule).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/conversation.h"
#include "core/result.h"
#include "storage/database.h"
#include "storage/migrations.h"

namespace kefu::bot {

struct CustomerKey {
  std::string channel;
  std::string app;
  std::string external_id;
};

struct ConversationFilter {
  std::optional<ConversationState> state;
  std::optional<std::string> channel;
  std::optional<CustomerId> customer_id;
  // Newest activity first; page with `before_id` (conversations with id < before_id).
  std::optional<int64_t> before_id;
  int limit = 50;  // 1..500
};

struct FeedbackCounts {
  int64_t helpful = 0;
  int64_t not_helpful = 0;
};

class SqliteConversationStore {
 public:
  // The module's numbered migrations, and ApplyMigrations(db, "bot", them).
  static const std::vector<storage::Migration>& Migrations();
  static Status Migrate(storage::Database& db);

  // Finds or creates the customer for `key`. A non-empty `display_name` replaces the stored one;
  // `first_seen_source` is only recorded on creation. kInvalidArgument when a key field is empty.
  Result<Customer> UpsertCustomer(storage::Database& db, const CustomerKey& key,
                                  std::string_view display_name, std::string_view first_seen_source,
                                  TimePoint now) const;

  // The customer's conversation on their channel app, created in state `bot` if none exists.
  Result<Conversation> OpenConversation(storage::Database& db, const Customer& customer,
                                        TimePoint now) const;

  // Stores state, dialogue memory, ticket id, reply context and updated_at of `c`. kNotFound for an
  // unknown id.
  Status UpdateConversation(storage::Database& db, const Conversation& c) const;

  // Appends `m` to its conversation, assigning id, seq (next in the conversation) and created_at
  // (= now); bumps the conversation's message count and last_message_at. Returns the stored
  // message. kAlreadyExists when an inbound message with the same non-empty platform_msg_id is
  // already in the conversation (a redelivery); kNotFound for an unknown conversation.
  Result<ConversationMessage> AppendMessage(storage::Database& db, ConversationMessage m,
                                            TimePoint now) const;

  // The engine's fast path (it holds the conversation row in its job): inserts `m` as message
  // `seq` without touching the conversation; SaveTurn then stores message_count (= the last seq)
  // and last_message_at with the rest. kAlreadyExists as AppendMessage.
  Result<ConversationMessage> InsertMessage(storage::Database& db, ConversationMessage m,
                                            int64_t seq, TimePoint now) const;
  // UpdateConversation plus message_count and last_message_at. kNotFound for an unknown id.
  Status SaveTurn(storage::Database& db, const Conversation& c) const;

  // Records the customer's answer to "以上回答是否解决了您的问题？" for `faq_id`.
  Status RecordFeedback(storage::Database& db, ConversationId conversation, std::string_view faq_id,
                        bool helpful, TimePoint now) const;
  // Feedback totals for one FAQ (for knowledge's eval and the console).
  Result<FeedbackCounts> CountFeedback(storage::Database& db, std::string_view faq_id) const;

  Result<std::optional<Customer>> FindCustomer(storage::Database& db, CustomerId id) const;
  Result<std::optional<Conversation>> FindConversation(storage::Database& db,
                                                       ConversationId id) const;
  // kInvalidArgument for a limit outside 1..500.
  Result<std::vector<Conversation>> ListConversations(storage::Database& db,
                                                      const ConversationFilter& filter) const;
  // Messages in seq order, at most `limit` starting after seq `after_seq`.
  Result<std::vector<ConversationMessage>> ListMessages(storage::Database& db, ConversationId id,
                                                        int64_t after_seq = 0,
                                                        int limit = 10000) const;
};

}  // namespace kefu::bot
