// Ports of the conversation engine. bot/ must not include channels/ or app/ (DESIGN), so the
// engine talks to the inbound table, the outbox, the FAQ matcher and ticketing through these
// interfaces; the app implements them over channels::*, knowledge::Matcher and ticketing's store
// (see docs/bot.md "Wiring").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/conversation.h"
#include "bot/dialogue.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"
#include "storage/database.h"

namespace kefu::bot {

// A stored inbound message as the engine needs it (channels::StoredInbound maps field by field;
// `display_name`, `button` and `source` may stay empty).
struct InboundMessage {
  int64_t inbound_id = 0;        // row id in the channels' inbound table
  std::string channel;           // "wecom" | "wecom_kf" | "dingtalk"
  std::string app;               // configured app name
  std::string sender;            // customer external id (UserID, external_userid, staff id)
  std::string display_name;      // sender's name when the platform sent one
  std::string msg_type;          // "text", "image", "voice", "event", "button", ...
  std::string event;             // msg_type "event": enter_agent, enter_session, subscribe, ...
  std::string text;              // text content; "" for non-text
  std::string button;            // msg_type "button": payload (kButtonHandoff, "pick:2", ...)
  std::string reply_context;     // opaque JSON copied to every reply (sessionWebhook, open_kfid)
  std::string platform_msg_id;   // "" for events without one
  int64_t platform_time_ms = 0;  // 0 when unknown
  std::string source;            // first-seen source for a new customer ("" = "<channel>:<type>")
};

// Where stored inbound messages are handed to the engine (channels' InboundSink adapter calls
// it on the writer thread right after the insert commits). Must not block.
class InboundSubmitter {
 public:
  virtual ~InboundSubmitter() = default;
  virtual void Submit(InboundMessage m) = 0;
};

// The FAQ matcher (knowledge::Matcher behind an adapter). Thread-safe; called on engine worker
// threads and, rarely, on the writer thread. Returns the best `k` candidates, best first, with
// calibrated confidence and the answer for `channel`.
class FaqMatcher {
 public:
  virtual ~FaqMatcher() = default;
  virtual Result<MatchResult> Match(std::string_view query, const std::string& channel,
                                    int k) const = 0;
};

// The channels' inbound table. Called on the writer thread inside the engine's job.
class InboundLedger {
 public:
  virtual ~InboundLedger() = default;
  // Marks the row processed in the job's transaction. Returns false when it already was (a
  // duplicate delivery to the engine: the job then does nothing).
  virtual Result<bool> MarkProcessed(storage::Database& db, int64_t inbound_id, TimePoint now) = 0;
};

// One reply for the outbox. `reply.text` is always complete on its own (suggestions are numbered
// in the text), so a channel that cannot show buttons or markdown sends `reply.text` as text.
struct OutboundReply {
  std::string channel;
  std::string app;
  std::string destination;      // the customer's external id
  std::string reply_context;    // from the inbound message
  std::string idempotency_key;  // "bot:<inbound_id>:<n>"
  std::optional<int64_t> inbound_id;
  ConversationId conversation_id;
  MessageId message_id;  // the stored conversation message of this reply
  Reply reply;
};

// The channels' durable outbox. Called on the writer thread inside the engine's job, so the
// reply commits together with the inbound "processed" mark.
class ReplyOutbox {
 public:
  virtual ~ReplyOutbox() = default;
  virtual Status Enqueue(storage::Database& db, const OutboundReply& reply) = 0;
  // Called on the writer thread after a job that enqueued replies committed (never before: a
  // sender woken inside the job could read before the rows are visible). Must not block.
  virtual void Committed() {}
};

struct HandoffRequest {
  Customer customer;
  Conversation conversation;  // state already waiting_agent; ticket_id = the previous ticket
  std::vector<ConversationMessage> transcript;  // the whole conversation, in order
  HandoffAction action;                         // reason, summary note, last question, tried
  TimePoint now{};
};

struct HandoffTicket {
  // The ticket, when the desk opened it inside the job; nullopt when it is opened after the
  // commit (the desk then records it on the conversation itself).
  std::optional<TicketId> ticket_id;
  int queue_position = 1;  // 1-based position in the unassigned queue
};

// Who holds a handed-off conversation now, as ticketing sees it.
struct HumanOwnership {
  enum class Kind {
    kQueued,    // waiting for an agent
    kAgent,     // an agent took it: `agent` is the name to tell the customer
    kReleased,  // the ticket is solved or closed: the bot takes over again
  };
  Kind kind = Kind::kQueued;
  std::string agent;
};

// Ticketing events about handed-off conversations, pushed to the engine by the desk. Called on the
// writer thread after ticketing's commit; must not block (the engine posts a writer job).
class HandoffEvents {
 public:
  virtual ~HandoffEvents() = default;
  // The ticket of `conversation` is assigned to `agent` (the name to tell the customer).
  virtual void AgentAssigned(ConversationId conversation, std::string agent) = 0;
  // A ticket left the unassigned queue (assigned, answered, solved, ...): positions may have moved.
  virtual void QueueChanged() = 0;
};

// Ticketing, for hand-off. The in-transaction calls run on the writer thread inside the engine's
// job and must only use the given connection.
class HandoffDesk {
 public:
  virtual ~HandoffDesk() = default;
  // Whether human service is open for this conversation now, and the next opening if not (from
  // the hand-off group's calendar).
  virtual ServiceWindow WindowFor(const Conversation& conversation, TimePoint now) = 0;
  // Opens (or reopens / follows up) the ticket with the transcript and the bot summary note as
  // an internal note - inside the job, or durably queued in it and done after the commit.
  virtual Result<HandoffTicket> OpenHandoff(storage::Database& db, const HandoffRequest& req) = 0;
  // Current 1-based queue position of the conversation's hand-off.
  virtual Result<int> QueuePosition(storage::Database& db, const Conversation& conversation) = 0;
  // Appends a customer message that arrived while a human owns (or is about to own) the
  // conversation.
  virtual Status AppendCustomerMessage(storage::Database& db, const Conversation& conversation,
                                       const ConversationMessage& message) = 0;
  // Who holds the conversation (state waiting_agent or with_agent) now. Called inside the job
  // before the policy runs on a customer message; the default never changes the state.
  virtual Result<HumanOwnership> Ownership(storage::Database& /*db*/,
                                           const Conversation& /*conversation*/) {
    return HumanOwnership{};
  }
  // Called on the writer thread after a job that called OpenHandoff or AppendCustomerMessage
  // committed. Must not block (wake a worker).
  virtual void Committed() {}
  // Where to push ticketing events (nullptr = stop). The engine subscribes in its constructor and
  // unsubscribes in Stop; the default desk has no events.
  virtual void Subscribe(HandoffEvents* /*events*/) {}
};

}  // namespace kefu::bot
