// Customers, conversations and their messages: the bot's records of who wrote, on which channel
// app, and what was said, in order. Plain values; persisted by SqliteConversationStore.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "bot/dialogue.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/result.h"

namespace kefu::bot {

// A customer is one identity on one channel app: (channel, app, external_id) is unique. The
// external id is the WeCom UserID / external_userid, the 微信客服 external_userid, or the DingTalk
// staff id / union id.
struct Customer {
  CustomerId id;
  std::string channel;  // channel kind: "wecom", "wecom_kf", "dingtalk"
  std::string app;      // configured app name within the channel
  std::string external_id;
  std::string display_name;       // latest known; "" when the platform did not say
  std::string first_seen_source;  // how the customer first reached us ("wecom:text", scene, ...)
  TimePoint created_at{};
  TimePoint updated_at{};
};

// One conversation per customer and channel app. `dialogue.state` is the conversation state
// (stored in its own column so it can be filtered); the rest of `dialogue` is the policy's memory.
struct Conversation {
  ConversationId id;
  CustomerId customer_id;
  std::string channel;
  std::string app;
  DialogueState dialogue;
  std::optional<TicketId> ticket_id;  // the hand-off ticket, once one was opened
  // Reply context (JSON from the channel) of the customer's latest message: lets the bot write to
  // the customer without an inbound message to answer (agent joined, queue updates).
  std::string reply_context;
  int64_t message_count = 0;  // also the seq of the last message
  TimePoint created_at{};
  TimePoint updated_at{};
  TimePoint last_message_at{};

  ConversationState state() const { return dialogue.state; }
};

enum class Direction { kInbound, kOutbound };
enum class SenderKind { kCustomer, kBot, kAgent, kSystem };

// "in" / "out"; "customer" / "bot" / "agent" / "system".
std::string_view DirectionName(Direction d);
std::string_view SenderKindName(SenderKind s);
std::optional<Direction> ParseDirection(std::string_view name);
std::optional<SenderKind> ParseSenderKind(std::string_view name);

struct ConversationMessage {
  MessageId id;
  ConversationId conversation_id;
  int64_t seq = 0;  // 1, 2, 3, ... within the conversation, in processing order
  Direction direction = Direction::kInbound;
  SenderKind sender = SenderKind::kCustomer;
  std::string sender_id;        // agent id, customer external id, or "" for bot/system
  std::string type;             // "text", "markdown", "action_card", "image", "event", ...
  std::string content;          // text, or a JSON rendering for structured replies
  std::string platform_msg_id;  // "" for bot replies not yet sent
  std::optional<TimePoint> platform_time;  // when the platform says it was sent
  TimePoint created_at{};
};

// DialogueState <-> JSON (without `state`, which has its own column). FromJson: kDataLoss naming
// the field on a malformed document.
std::string DialogueStateToJson(const DialogueState& s);
Result<DialogueState> DialogueStateFromJson(std::string_view json);

// Reply <-> JSON {"purpose","format","title","text","buttons":[{"title","payload","text"}],
// "faq_id"}: the content stored for structured bot replies and handed to the outbox.
nlohmann::json ReplyToJson(const Reply& r);

// REST shapes (timestamps as *_at_ms, milliseconds since the epoch):
// customer {"id","channel","app","external_id","display_name","first_seen_source",
//           "created_at_ms","updated_at_ms"};
// conversation {"id","customer_id","channel","app","state","ticket_id"(null),"message_count",
//               "awaiting_feedback","consecutive_misses","created_at_ms","updated_at_ms",
//               "last_message_at_ms"};
// message {"id","seq","direction","sender","sender_id","type","content","platform_msg_id",
//          "platform_time_ms"(null),"created_at_ms"}.
nlohmann::json CustomerToJson(const Customer& c);
nlohmann::json ConversationToJson(const Conversation& c);
nlohmann::json MessageToJson(const ConversationMessage& m);

}  // namespace kefu::bot
