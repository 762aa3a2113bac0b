#include "bot/dialogue.h"

#include <array>
#include <utility>

namespace kefu::bot {
namespace {

constexpr std::array<std::pair<ConversationState, std::string_view>, 4> kStateNames = {{
    {ConversationState::kBot, "bot"},
    {ConversationState::kWaitingAgent, "waiting_agent"},
    {ConversationState::kWithAgent, "with_agent"},
    {ConversationState::kClosed, "closed"},
}};

constexpr std::array<std::pair<InboundType, std::string_view>, 10> kTypeNames = {{
    {InboundType::kText, "text"},
    {InboundType::kImage, "image"},
    {InboundType::kVoice, "voice"},
    {InboundType::kVideo, "video"},
    {InboundType::kFile, "file"},
    {InboundType::kLocation, "location"},
    {InboundType::kLink, "link"},
    {InboundType::kOther, "other"},
    {InboundType::kEvent, "event"},
    {InboundType::kButton, "button"},
}};

}  // namespace

std::string_view ConversationStateName(ConversationState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  return "bot";
}

std::optional<ConversationState> ParseConversationState(std::string_view name) {
  for (const auto& [s, n] : kStateNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

std::string_view InboundTypeName(InboundType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "other";
}

InboundType ParseInboundType(std::string_view name) {
  for (const auto& [t, n] : kTypeNames) {
    if (n == name) return t;
  }
  return InboundType::kOther;
}

std::string_view ReplyPurposeName(ReplyPurpose purpose) {
  switch (purpose) {
    case ReplyPurpose::kGreeting:
      return "greeting";
    case ReplyPurpose::kAnswer:
      return "answer";
    case ReplyPurpose::kSuggestions:
      return "suggestions";
    case ReplyPurpose::kNotUnderstood:
      return "not_understood";
    case ReplyPurpose::kFeedbackQuestion:
      return "feedback_question";
    case ReplyPurpose::kFeedbackThanks:
      return "feedback_thanks";
    case ReplyPurpose::kHandoffNotice:
      return "handoff_notice";
    case ReplyPurpose::kTextOnly:
      return "text_only";
    case ReplyPurpose::kEmptyPrompt:
      return "empty_prompt";
    case ReplyPurpose::kAgentJoined:
      return "agent_joined";
    case ReplyPurpose::kQueueUpdate:
      return "queue_update";
  }
  return "answer";
}

std::string_view ReplyFormatName(ReplyFormat format) {
  switch (format) {
    case ReplyFormat::kText:
      return "text";
    case ReplyFormat::kMarkdown:
      return "markdown";
    case ReplyFormat::kActionCard:
      return "action_card";
  }
  return "text";
}

std::string_view HandoffReasonName(HandoffReason reason) {
  switch (reason) {
    case HandoffReason::kKeyword:
      return "keyword";
    case HandoffReason::kConsecutiveMisses:
      return "consecutive_misses";
    case HandoffReason::kNegativeFeedback:
      return "negative_feedback";
    case HandoffReason::kButton:
      return "button";
  }
  return "keyword";
}

}  // namespace kefu::bot
