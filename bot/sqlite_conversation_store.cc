#include "bot/sqlite_conversation_store.h"

#include <utility>

namespace kefu::bot {
namespace {

constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  channel TEXT NOT NULL,
  app TEXT NOT NULL,
  external_id TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  first_seen_source TEXT NOT NULL DEFAULT '',
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  UNIQUE (channel, app, external_id)
);
CREATE TABLE conversations (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  channel TEXT NOT NULL,
  app TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'bot'
    CHECK (state IN ('bot', 'waiting_agent', 'with_agent', 'closed')),
  dialogue_json TEXT NOT NULL DEFAULT '{}',
  ticket_id INTEGER,
  message_count INTEGER NOT NULL DEFAULT 0,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  last_message_at_ms INTEGER NOT NULL,
  UNIQUE (customer_id, channel, app)
);
CREATE INDEX conversations_by_state ON conversations (state, id);
CREATE INDEX conversations_by_channel ON conversations (channel, id);
CREATE TABLE conversation_messages (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id),
  seq INTEGER NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  sender_kind TEXT NOT NULL CHECK (sender_kind IN ('customer', 'bot', 'agent', 'system')),
  sender_id TEXT NOT NULL DEFAULT '',
  msg_type TEXT NOT NULL,
  content TEXT NOT NULL,
  platform_msg_id TEXT NOT NULL DEFAULT '',
  platform_time_ms INTEGER,
  created_at_ms INTEGER NOT NULL,
  UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX conversation_messages_platform_id
  ON conversation_messages (conversation_id, platform_msg_id)
  WHERE direction = 'in' AND platform_msg_id <> '';
)sql";

constexpr std::string_view kMigration2 = R"sql(
CREATE TABLE faq_feedback (
  id INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES conversations(id),
  faq_id TEXT NOT NULL,
  helpful INTEGER NOT NULL CHECK (helpful IN (0, 1)),
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX faq_feedback_by_faq ON faq_feedback (faq_id, created_at_ms);
)sql";

// The durable work queue of TicketingHandoffDesk (ticket calls done after the engine's commit).
constexpr std::string_view kMigration3 = R"sql(
CREATE TABLE ticket_handoff_queue (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('open', 'message')),
  conversation_id INTEGER NOT NULL REFERENCES conversations(id),
  requester TEXT NOT NULL,
  channel TEXT NOT NULL,
  body TEXT NOT NULL,
  note TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  done_at_ms INTEGER,
  ticket_id INTEGER
);
CREATE INDEX ticket_handoff_queue_pending ON ticket_handoff_queue (id) WHERE done_at_ms IS NULL;
)sql";

// Where to write to the customer without an inbound message to answer (agent joined, queue moves).
constexpr std::string_view kMigration4 = R"sql(
ALTER TABLE conversations ADD COLUMN reply_context TEXT NOT NULL DEFAULT '';
)sql";

constexpr std::string_view kInsertFeedback = R"sql(
INSERT INTO faq_feedback (conversation_id, faq_id, helpful, created_at_ms) VALUES (?1, ?2, ?3, ?4)
)sql";

constexpr std::string_view kCountFeedback = R"sql(
SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0) FROM faq_feedback WHERE faq_id = ?1
)sql";

constexpr std::string_view kUpsertCustomer = R"sql(
INSERT INTO customers (channel, app, external_id, display_name, first_seen_source,
                       created_at_ms, updated_at_ms)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
ON CONFLICT (channel, app, external_id) DO UPDATE SET
  display_name = CASE WHEN excluded.display_name <> '' THEN excluded.display_name
                      ELSE customers.display_name END,
  updated_at_ms = CASE WHEN excluded.display_name <> ''
                        AND excluded.display_name <> customers.display_name
                       THEN excluded.updated_at_ms ELSE customers.updated_at_ms END
RETURNING id, channel, app, external_id, display_name, first_seen_source, created_at_ms,
          updated_at_ms
)sql";

constexpr std::string_view kSelectCustomer = R"sql(
SELECT id, channel, app, external_id, display_name, first_seen_source, created_at_ms,
       updated_at_ms
FROM customers WHERE id = ?1
)sql";

constexpr std::string_view kSelectCustomerByKey = R"sql(
SELECT id, channel, app, external_id, display_name, first_seen_source, created_at_ms,
       updated_at_ms
FROM customers WHERE channel = ?1 AND app = ?2 AND external_id = ?3
)sql";

constexpr std::string_view kConversationColumns =
    "id, customer_id, channel, app, state, dialogue_json, ticket_id, message_count, "
    "created_at_ms, updated_at_ms, last_message_at_ms, reply_context";

constexpr std::string_view kInsertConversation = R"sql(
INSERT INTO conversations (customer_id, channel, app, state, dialogue_json, created_at_ms,
                           updated_at_ms, last_message_at_ms)
VALUES (?1, ?2, ?3, 'bot', '{}', ?4, ?4, ?4)
ON CONFLICT (customer_id, channel, app) DO NOTHING
)sql";

constexpr std::string_view kSelectConversationByCustomer = R"sql(
SELECT id, customer_id, channel, app, state, dialogue_json, ticket_id, message_count,
       created_at_ms, updated_at_ms, last_message_at_ms, reply_context
FROM conversations WHERE customer_id = ?1 AND channel = ?2 AND app = ?3
)sql";

constexpr std::string_view kSelectConversation = R"sql(
SELECT id, customer_id, channel, app, state, dialogue_json, ticket_id, message_count,
       created_at_ms, updated_at_ms, last_message_at_ms, reply_context
FROM conversations WHERE id = ?1
)sql";

constexpr std::string_view kListConversations = R"sql(
SELECT id, customer_id, channel, app, state, dialogue_json, ticket_id, message_count,
       created_at_ms, updated_at_ms, last_message_at_ms, reply_context
FROM conversations
WHERE (?1 IS NULL OR state = ?1)
  AND (?2 IS NULL OR channel = ?2)
  AND (?3 IS NULL OR customer_id = ?3)
  AND (?4 IS NULL OR id < ?4)
ORDER BY id DESC
LIMIT ?5
)sql";

constexpr std::string_view kUpdateConversation = R"sql(
UPDATE conversations SET state = ?2, dialogue_json = ?3, ticket_id = ?4, updated_at_ms = ?5,
                         reply_context = ?6
WHERE id = ?1
)sql";

constexpr std::string_view kSaveTurn = R"sql(
UPDATE conversations SET state = ?2, dialogue_json = ?3, ticket_id = ?4, updated_at_ms = ?5,
                         reply_context = ?6, message_count = ?7, last_message_at_ms = ?8
WHERE id = ?1
)sql";

constexpr std::string_view kBumpConversation = R"sql(
UPDATE conversations SET message_count = message_count + 1, last_message_at_ms = ?2,
                         updated_at_ms = ?2
WHERE id = ?1
RETURNING message_count
)sql";

constexpr std::string_view kInsertMessage = R"sql(
INSERT INTO conversation_messages (conversation_id, seq, direction, sender_kind, sender_id,
                                   msg_type, content, platform_msg_id, platform_time_ms,
                                   created_at_ms)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
)sql";

constexpr std::string_view kListMessages = R"sql(
SELECT id, conversation_id, seq, direction, sender_kind, sender_id, msg_type, content,
       platform_msg_id, platform_time_ms, created_at_ms
FROM conversation_messages
WHERE conversation_id = ?1 AND seq > ?2
ORDER BY seq
LIMIT ?3
)sql";

Customer ReadCustomer(const storage::Statement& st) {
  Customer c;
  c.id = CustomerId(st.ColumnInt64(0));
  c.channel = st.ColumnText(1);
  c.app = st.ColumnText(2);
  c.external_id = st.ColumnText(3);
  c.display_name = st.ColumnText(4);
  c.first_seen_source = st.ColumnText(5);
  c.created_at = FromUnixMs(st.ColumnInt64(6));
  c.updated_at = FromUnixMs(st.ColumnInt64(7));
  return c;
}

Result<Conversation> ReadConversation(const storage::Statement& st) {
  Conversation c;
  c.id = ConversationId(st.ColumnInt64(0));
  c.customer_id = CustomerId(st.ColumnInt64(1));
  c.channel = st.ColumnText(2);
  c.app = st.ColumnText(3);
  const std::string state = st.ColumnText(4);
  KEFU_ASSIGN_OR_RETURN(c.dialogue, DialogueStateFromJson(st.ColumnText(5)));
  const auto parsed = ParseConversationState(state);
  if (!parsed) return DataLoss("conversations.state: unknown state '" + state + "'");
  c.dialogue.state = *parsed;
  if (const auto t = st.ColumnOptionalInt64(6)) c.ticket_id = TicketId(*t);
  c.message_count = st.ColumnInt64(7);
  c.created_at = FromUnixMs(st.ColumnInt64(8));
  c.updated_at = FromUnixMs(st.ColumnInt64(9));
  c.last_message_at = FromUnixMs(st.ColumnInt64(10));
  c.reply_context = st.ColumnText(11);
  return c;
}

Result<ConversationMessage> ReadMessage(const storage::Statement& st) {
  ConversationMessage m;
  m.id = MessageId(st.ColumnInt64(0));
  m.conversation_id = ConversationId(st.ColumnInt64(1));
  m.seq = st.ColumnInt64(2);
  const auto dir = ParseDirection(st.ColumnText(3));
  const auto sender = ParseSenderKind(st.ColumnText(4));
  if (!dir || !sender) return DataLoss("conversation_messages: bad direction or sender_kind");
  m.direction = *dir;
  m.sender = *sender;
  m.sender_id = st.ColumnText(5);
  m.type = st.ColumnText(6);
  m.content = st.ColumnText(7);
  m.platform_msg_id = st.ColumnText(8);
  if (const auto t = st.ColumnOptionalInt64(9)) m.platform_time = FromUnixMs(*t);
  m.created_at = FromUnixMs(st.ColumnInt64(10));
  return m;
}

}  // namespace

const std::vector<storage::Migration>& SqliteConversationStore::Migrations() {
  static const std::vector<storage::Migration> kMigrations = {
      {1, "customers, conversations, conversation_messages", std::string(kMigration1)},
      {2, "faq_feedback", std::string(kMigration2)},
      {3, "ticket_handoff_queue", std::string(kMigration3)},
      {4, "conversations.reply_context", std::string(kMigration4)},
  };
  return kMigrations;
}

Status SqliteConversationStore::Migrate(storage::Database& db) {
  return storage::ApplyMigrations(db, "bot", Migrations());
}

Result<Customer> SqliteConversationStore::UpsertCustomer(storage::Database& db,
                                                         const CustomerKey& key,
                                                         std::string_view display_name,
                                                         std::string_view first_seen_source,
                                                         TimePoint now) const {
  if (key.channel.empty()) return InvalidArgument("customer channel must not be empty");
  if (key.app.empty()) return InvalidArgument("customer app must not be empty");
  if (key.external_id.empty()) return InvalidArgument("customer external_id must not be empty");
  // A known customer whose name does not change (every message after the first) costs one read
  // and no row write.
  {
    KEFU_ASSIGN_OR_RETURN(storage::Statement * found, db.Prepare(kSelectCustomerByKey));
    KEFU_RETURN_IF_ERROR(found->BindAll(key.channel, key.app, key.external_id));
    KEFU_ASSIGN_OR_RETURN(const bool row, found->Step());
    if (row) {
      Customer c = ReadCustomer(*found);
      found->Reset();
      if (display_name.empty() || display_name == c.display_name) return c;
    } else {
      found->Reset();
    }
  }
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kUpsertCustomer));
  KEFU_RETURN_IF_ERROR(st->BindAll(key.channel, key.app, key.external_id, display_name,
                                   first_seen_source, ToUnixMs(now)));
  KEFU_ASSIGN_OR_RETURN(const bool row, st->Step());
  if (!row) return Internal("customer upsert returned no row");
  Customer c = ReadCustomer(*st);
  st->Reset();
  return c;
}

Result<Conversation> SqliteConversationStore::OpenConversation(storage::Database& db,
                                                               const Customer& customer,
                                                               TimePoint now) const {
  // Existing conversations (the common case) cost one read; a new one an insert and the read.
  for (int attempt = 0; attempt < 2; ++attempt) {
    {
      KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kSelectConversationByCustomer));
      KEFU_RETURN_IF_ERROR(st->BindAll(customer.id.value(), customer.channel, customer.app));
      KEFU_ASSIGN_OR_RETURN(const bool row, st->Step());
      if (row) {
        auto c = ReadConversation(*st);
        st->Reset();
        return c;
      }
      st->Reset();
    }
    if (attempt == 0) {
      KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kInsertConversation));
      KEFU_RETURN_IF_ERROR(
          st->BindAll(customer.id.value(), customer.channel, customer.app, ToUnixMs(now)));
      KEFU_RETURN_IF_ERROR(st->Run());
    }
  }
  return Internal("conversation insert left no row");
}

Status SqliteConversationStore::UpdateConversation(storage::Database& db,
                                                   const Conversation& c) const {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kUpdateConversation));
  std::optional<int64_t> ticket;
  if (c.ticket_id) ticket = c.ticket_id->value();
  KEFU_RETURN_IF_ERROR(st->BindAll(c.id.value(), ConversationStateName(c.state()),
                                   DialogueStateToJson(c.dialogue), ticket, ToUnixMs(c.updated_at),
                                   c.reply_context));
  KEFU_RETURN_IF_ERROR(st->Run());
  if (db.Changes() == 0) return NotFound("conversation " + c.id.ToString() + " not found");
  return Status::Ok();
}

Status SqliteConversationStore::SaveTurn(storage::Database& db, const Conversation& c) const {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kSaveTurn));
  std::optional<int64_t> ticket;
  if (c.ticket_id) ticket = c.ticket_id->value();
  KEFU_RETURN_IF_ERROR(st->BindAll(c.id.value(), ConversationStateName(c.state()),
                                   DialogueStateToJson(c.dialogue), ticket, ToUnixMs(c.updated_at),
                                   c.reply_context, c.message_count, ToUnixMs(c.last_message_at)));
  KEFU_RETURN_IF_ERROR(st->Run());
  if (db.Changes() == 0) return NotFound("conversation " + c.id.ToString() + " not found");
  return Status::Ok();
}

Result<ConversationMessage> SqliteConversationStore::InsertMessage(storage::Database& db,
                                                                   ConversationMessage m,
                                                                   int64_t seq,
                                                                   TimePoint now) const {
  // One statement: a constraint failure (a redelivered inbound platform id) undoes only itself.
  m.seq = seq;
  m.created_at = now;
  std::optional<int64_t> platform_time;
  if (m.platform_time) platform_time = ToUnixMs(*m.platform_time);
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kInsertMessage));
  KEFU_RETURN_IF_ERROR(st->BindAll(m.conversation_id.value(), m.seq, DirectionName(m.direction),
                                   SenderKindName(m.sender), m.sender_id, m.type, m.content,
                                   m.platform_msg_id, platform_time, ToUnixMs(now)));
  KEFU_RETURN_IF_ERROR(st->Run());
  m.id = MessageId(db.LastInsertRowId());
  return m;
}

Result<ConversationMessage> SqliteConversationStore::AppendMessage(storage::Database& db,
                                                                   ConversationMessage m,
                                                                   TimePoint now) const {
  // A savepoint, so a duplicate rolls back the counter bump even if the caller carries on.
  storage::Transaction tx(db);
  KEFU_RETURN_IF_ERROR(tx.begin_status());
  {
    KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kBumpConversation));
    KEFU_RETURN_IF_ERROR(st->BindAll(m.conversation_id.value(), ToUnixMs(now)));
    KEFU_ASSIGN_OR_RETURN(const bool row, st->Step());
    if (!row) return NotFound("conversation " + m.conversation_id.ToString() + " not found");
    m.seq = st->ColumnInt64(0);
    st->Reset();
  }
  const int64_t seq = m.seq;
  KEFU_ASSIGN_OR_RETURN(ConversationMessage stored, InsertMessage(db, std::move(m), seq, now));
  KEFU_RETURN_IF_ERROR(tx.Commit());
  return stored;
}

Status SqliteConversationStore::RecordFeedback(storage::Database& db, ConversationId conversation,
                                               std::string_view faq_id, bool helpful,
                                               TimePoint now) const {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kInsertFeedback));
  KEFU_RETURN_IF_ERROR(st->BindAll(conversation.value(), faq_id, helpful, ToUnixMs(now)));
  return st->Run();
}

Result<FeedbackCounts> SqliteConversationStore::CountFeedback(storage::Database& db,
                                                              std::string_view faq_id) const {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kCountFeedback));
  KEFU_RETURN_IF_ERROR(st->Bind(1, faq_id));
  KEFU_ASSIGN_OR_RETURN(const bool row, st->Step());
  FeedbackCounts c;
  if (row) {
    c.helpful = st->ColumnInt64(0);
    c.not_helpful = st->ColumnInt64(1);
  }
  st->Reset();
  return c;
}

Result<std::optional<Customer>> SqliteConversationStore::FindCustomer(storage::Database& db,
                                                                      CustomerId id) const {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kSelectCustomer));
  KEFU_RETURN_IF_ERROR(st->Bind(1, id.value()));
  KEFU_ASSIGN_OR_RETURN(const bool row, st->Step());
  std::optional<Customer> out;
  if (row) out = ReadCustomer(*st);
  st->Reset();
  return out;
}

Result<std::optional<Conversation>> SqliteConversationStore::FindConversation(
    storage::Database& db, ConversationId id) const {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kSelectConversation));
  KEFU_RETURN_IF_ERROR(st->Bind(1, id.value()));
  KEFU_ASSIGN_OR_RETURN(const bool row, st->Step());
  std::optional<Conversation> out;
  if (row) {
    auto c = ReadConversation(*st);
    st->Reset();
    if (!c.ok()) return c.status();
    out = std::move(c).value();
    return out;
  }
  st->Reset();
  return out;
}

Result<std::vector<Conversation>> SqliteConversationStore::ListConversations(
    storage::Database& db, const ConversationFilter& f) const {
  if (f.limit < 1 || f.limit > 500) return InvalidArgument("limit: must be within 1..500");
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kListConversations));
  std::optional<std::string> state;
  if (f.state) state = std::string(ConversationStateName(*f.state));
  std::optional<int64_t> customer;
  if (f.customer_id) customer = f.customer_id->value();
  KEFU_RETURN_IF_ERROR(st->BindAll(state, f.channel, customer, f.before_id, f.limit));
  std::vector<Conversation> out;
  while (true) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    auto c = ReadConversation(*st);
    if (!c.ok()) {
      st->Reset();
      return c.status();
    }
    out.push_back(std::move(c).value());
  }
  st->Reset();
  return out;
}

Result<std::vector<ConversationMessage>> SqliteConversationStore::ListMessages(
    storage::Database& db, ConversationId id, int64_t after_seq, int limit) const {
  KEFU_ASSIGN_OR_RETURN(storage::Statement * st, db.Prepare(kListMessages));
  KEFU_RETURN_IF_ERROR(st->BindAll(id.value(), after_seq, limit));
  std::vector<ConversationMessage> out;
  while (true) {
    auto row = st->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    auto m = ReadMessage(*st);
    if (!m.ok()) {
      st->Reset();
      return m.status();
    }
    out.push_back(std::move(m).value());
  }
  st->Reset();
  return out;
}

}  // namespace kefu::bot
