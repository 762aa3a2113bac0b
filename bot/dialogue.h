// Values the dialogue policy works on: conversation state, the inbound message as the policy sees
// it, FAQ match candidates, and the decision (replies, next state, actions). No I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace kefu::bot {

// Who owns the conversation. Stored as the lower_snake_case name.
enum class ConversationState {
  kBot,           // the bot answers
  kWaitingAgent,  // handed off, in the queue; the bot stays silent
  kWithAgent,     // a human agent owns it; the bot stays silent
  kClosed,        // ended; the next customer message starts over with the bot
};

// "bot", "waiting_agent", "with_agent", "closed".
std::string_view ConversationStateName(ConversationState state);
// Inverse of ConversationStateName; nullopt for an unknown name.
std::optional<ConversationState> ParseConversationState(std::string_view name);

// One FAQ the matcher proposes, with its calibrated confidence in [0, 1].
struct MatchCandidate {
  std::string faq_id;  // knowledge's stable FAQ id
  std::string question;
  std::string answer;  // Markdown allowed
  double confidence = 0;

  friend bool operator==(const MatchCandidate&, const MatchCandidate&) = default;
};

// The matcher's answer for one query, best candidate first.
struct MatchResult {
  std::vector<MatchCandidate> candidates;
};

// What kind of inbound message the customer sent.
enum class InboundType {
  kText,
  kImage,
  kVoice,
  kVideo,
  kFile,
  kLocation,
  kLink,
  kOther,   // any other non-text content (mini program, business card, ...)
  kEvent,   // platform event: `event` names it (enter_agent, enter_session, subscribe, ...)
  kButton,  // a button or menu the bot offered: `button` carries its payload
};

// "text", "image", ...; inverse ParseInboundType maps unknown names to kOther.
std::string_view InboundTypeName(InboundType type);
InboundType ParseInboundType(std::string_view name);

// Button payloads the bot puts on buttons and understands when they come back.
inline constexpr std::string_view kButtonHandoff = "handoff";
inline constexpr std::string_view kButtonFeedbackYes = "feedback:yes";
inline constexpr std::string_view kButtonFeedbackNo = "feedback:no";
// "pick:<n>" picks suggestion n (1-based).
inline constexpr std::string_view kButtonPickPrefix = "pick:";

// The inbound message as the policy sees it.
struct PolicyInput {
  InboundType type = InboundType::kText;
  std::string text;     // kText: the customer's text (may be empty, huge or emoji only)
  std::string event;    // kEvent: platform event name
  std::string button;   // kButton: payload
  std::string channel;  // channel kind: "wecom", "wecom_kf", "dingtalk" (selects templates)
  TimePoint now{};
  // While the conversation waits for an agent: its current queue position (the engine asks the
  // desk before deciding); unset otherwise.
  std::optional<int> queue_position;
};

// Whether human service is open right now, and if not when it opens next (from the hand-off
// group's SLA calendar). `next_opening` unset while closed means "unknown".
struct ServiceWindow {
  bool open = true;
  std::optional<TimePoint> next_opening;
};

// The per-conversation memory of the policy. Persisted with the conversation (as JSON).
struct DialogueState {
  ConversationState state = ConversationState::kBot;
  bool greeted = false;                             // greeting sent at least once
  std::optional<TimePoint> last_greeted_at;         // for the enter-event greeting interval
  std::vector<MatchCandidate> pending_suggestions;  // numbered choices shown last turn
  int consecutive_misses = 0;
  bool awaiting_feedback = false;  // "以上回答是否解决了您的问题？" was asked
  std::optional<std::string> last_answered_faq_id;
  std::string last_question;               // last real question (for the hand-off summary)
  std::vector<MatchCandidate> last_tried;  // candidates tried for it (answers not kept)
  int announced_position = 0;              // queue position the customer was last told (0 = none)

  friend bool operator==(const DialogueState&, const DialogueState&) = default;
};

// Why a reply is sent; tests and metrics key on it.
enum class ReplyPurpose {
  kGreeting,
  kAnswer,
  kSuggestions,
  kNotUnderstood,
  kFeedbackQuestion,
  kFeedbackThanks,
  kHandoffNotice,  // queue position or outside-hours notice (see DialoguePolicy::HandoffNotice)
  kTextOnly,       // non-text message: "I read text only" + offer 转人工
  kEmptyPrompt,    // empty / emoji-only text
  kAgentJoined,    // an agent took the conversation
  kQueueUpdate,    // the queue position moved while waiting for an agent
};
std::string_view ReplyPurposeName(ReplyPurpose purpose);

enum class ReplyFormat { kText, kMarkdown, kActionCard };
std::string_view ReplyFormatName(ReplyFormat format);

// A button on an action card. `payload` is what comes back as a kButton message; `text` is what a
// channel without callbacks may make the button send as a text message instead (DingTalk
// dtmd://dingtalkclient/sendMessage?content=...).
struct ReplyButton {
  std::string title;
  std::string payload;
  std::string text;

  friend bool operator==(const ReplyButton&, const ReplyButton&) = default;
};

// A channel-neutral reply. The channel renders it: kText as text, kMarkdown as markdown
// (title = notification summary), kActionCard as a card with `buttons`.
struct Reply {
  ReplyPurpose purpose = ReplyPurpose::kAnswer;
  ReplyFormat format = ReplyFormat::kText;
  std::string title;
  std::string text;
  std::vector<ReplyButton> buttons;
  std::optional<std::string> faq_id;  // kAnswer: the FAQ answered

  friend bool operator==(const Reply&, const Reply&) = default;
};

enum class HandoffReason { kKeyword, kConsecutiveMisses, kNegativeFeedback, kButton };
std::string_view HandoffReasonName(HandoffReason reason);

// Open (or reopen) a hand-off ticket.
struct HandoffAction {
  HandoffReason reason = HandoffReason::kKeyword;
  std::string summary_note;  // the bot summary note for the agent (Chinese, plain text)
  std::string last_question;
  std::vector<MatchCandidate> tried;  // answers not kept
};

// Record feedback on an answered FAQ.
struct FeedbackAction {
  std::string faq_id;
  bool helpful = false;
};

// What the policy decided for one inbound message.
struct Decision {
  std::vector<Reply> replies;
  DialogueState next;
  std::optional<HandoffAction> handoff;
  std::optional<FeedbackAction> feedback;
  // The conversation is owned by a human (waiting or with agent): append the message to the
  // ticket so the agent sees it.
  bool forward_to_agent = false;
  // The customer asked for a human again while queued: repeat the queue position notice.
  bool repeat_queue_position = false;
};

}  // namespace kefu::bot
