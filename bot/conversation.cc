#include "bot/conversation.h"

#include <nlohmann/json.hpp>

namespace kefu::bot {
namespace {

nlohmann::json CandidateToJson(const MatchCandidate& c) {
  nlohmann::json j = {{"faq_id", c.faq_id}, {"question", c.question}, {"confidence", c.confidence}};
  if (!c.answer.empty()) j["answer"] = c.answer;
  return j;
}

MatchCandidate CandidateFromJson(const nlohmann::json& j) {
  MatchCandidate c;
  c.faq_id = j.at("faq_id").get<std::string>();
  c.question = j.at("question").get<std::string>();
  c.confidence = j.at("confidence").get<double>();
  c.answer = j.value("answer", std::string());
  return c;
}

}  // namespace

std::string_view DirectionName(Direction d) {
  return d == Direction::kInbound ? "in" : "out";
}

std::string_view SenderKindName(SenderKind s) {
  switch (s) {
    case SenderKind::kCustomer:
      return "customer";
    case SenderKind::kBot:
      return "bot";
    case SenderKind::kAgent:
      return "agent";
    case SenderKind::kSystem:
      return "system";
  }
  return "system";
}

std::optional<Direction> ParseDirection(std::string_view name) {
  if (name == "in") return Direction::kInbound;
  if (name == "out") return Direction::kOutbound;
  return std::nullopt;
}

std::optional<SenderKind> ParseSenderKind(std::string_view name) {
  for (SenderKind s :
       {SenderKind::kCustomer, SenderKind::kBot, SenderKind::kAgent, SenderKind::kSystem}) {
    if (SenderKindName(s) == name) return s;
  }
  return std::nullopt;
}

std::string DialogueStateToJson(const DialogueState& s) {
  nlohmann::json j = nlohmann::json::object();
  j["greeted"] = s.greeted;
  if (s.last_greeted_at) j["last_greeted_at_ms"] = ToUnixMs(*s.last_greeted_at);
  nlohmann::json pending = nlohmann::json::array();
  for (const auto& c : s.pending_suggestions)
    pending.push_back(CandidateToJson(c));
  j["pending_suggestions"] = std::move(pending);
  j["consecutive_misses"] = s.consecutive_misses;
  j["awaiting_feedback"] = s.awaiting_feedback;
  if (s.last_answered_faq_id) j["last_answered_faq_id"] = *s.last_answered_faq_id;
  j["last_question"] = s.last_question;
  nlohmann::json tried = nlohmann::json::array();
  for (const auto& c : s.last_tried)
    tried.push_back(CandidateToJson(c));
  j["last_tried"] = std::move(tried);
  if (s.announced_position > 0) j["announced_position"] = s.announced_position;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<DialogueState> DialogueStateFromJson(std::string_view json) {
  try {
    const nlohmann::json j = nlohmann::json::parse(json);
    DialogueState s;
    s.greeted = j.value("greeted", false);
    if (j.contains("last_greeted_at_ms")) {
      s.last_greeted_at = FromUnixMs(j.at("last_greeted_at_ms").get<int64_t>());
    }
    for (const auto& c : j.value("pending_suggestions", nlohmann::json::array())) {
      s.pending_suggestions.push_back(CandidateFromJson(c));
    }
    s.consecutive_misses = j.value("consecutive_misses", 0);
    s.awaiting_feedback = j.value("awaiting_feedback", false);
    if (j.contains("last_answered_faq_id")) {
      s.last_answered_faq_id = j.at("last_answered_faq_id").get<std::string>();
    }
    s.last_question = j.value("last_question", std::string());
    for (const auto& c : j.value("last_tried", nlohmann::json::array())) {
      s.last_tried.push_back(CandidateFromJson(c));
    }
    s.announced_position = j.value("announced_position", 0);
    return s;
  } catch (const nlohmann::json::exception& e) {
    return DataLoss(std::string("conversations.dialogue_json: ") + e.what());
  }
}

nlohmann::json ReplyToJson(const Reply& r) {
  nlohmann::json j = {{"purpose", ReplyPurposeName(r.purpose)},
                      {"format", ReplyFormatName(r.format)},
                      {"title", r.title},
                      {"text", r.text}};
  nlohmann::json buttons = nlohmann::json::array();
  for (const auto& b : r.buttons) {
    buttons.push_back({{"title", b.title}, {"payload", b.payload}, {"text", b.text}});
  }
  j["buttons"] = std::move(buttons);
  if (r.faq_id) j["faq_id"] = *r.faq_id;
  return j;
}

nlohmann::json CustomerToJson(const Customer& c) {
  return {{"id", c.id.value()},
          {"channel", c.channel},
          {"app", c.app},
          {"external_id", c.external_id},
          {"display_name", c.display_name},
          {"first_seen_source", c.first_seen_source},
          {"created_at_ms", ToUnixMs(c.created_at)},
          {"updated_at_ms", ToUnixMs(c.updated_at)}};
}

nlohmann::json ConversationToJson(const Conversation& c) {
  nlohmann::json j = {{"id", c.id.value()},
                      {"customer_id", c.customer_id.value()},
                      {"channel", c.channel},
                      {"app", c.app},
                      {"state", ConversationStateName(c.state())},
                      {"ticket_id", nullptr},
                      {"message_count", c.message_count},
                      {"awaiting_feedback", c.dialogue.awaiting_feedback},
                      {"consecutive_misses", c.dialogue.consecutive_misses},
                      {"created_at_ms", ToUnixMs(c.created_at)},
                      {"updated_at_ms", ToUnixMs(c.updated_at)},
                      {"last_message_at_ms", ToUnixMs(c.last_message_at)}};
  if (c.ticket_id) j["ticket_id"] = c.ticket_id->value();
  return j;
}

nlohmann::json MessageToJson(const ConversationMessage& m) {
  nlohmann::json j = {{"id", m.id.value()},
                      {"seq", m.seq},
                      {"direction", DirectionName(m.direction)},
                      {"sender", SenderKindName(m.sender)},
                      {"sender_id", m.sender_id},
                      {"type", m.type},
                      {"content", m.content},
                      {"platform_msg_id", m.platform_msg_id},
                      {"platform_time_ms", nullptr},
                      {"created_at_ms", ToUnixMs(m.created_at)}};
  if (m.platform_time) j["platform_time_ms"] = ToUnixMs(*m.platform_time);
  return j;
}

}  // namespace kefu::bot
