// DialoguePolicy: the bot's decisions as a pure function over values (no I/O, no clock reads).
//
// Per inbound message the engine calls, in order:
//   1. MatchQuery(state, input): the text to send to the FAQ matcher, or nullopt when this turn
//      needs no match (a choice, a keyword, feedback, a non-text message, a human owns it, ...).
//   2. Decide(state, input, match, window): replies, the next state and actions. `match` is
//      ignored when MatchQuery returned nullopt.
//   3. If the decision carries a kHandoffNotice reply with "{position}", FillQueuePosition with
//      the queue position of the ticket it opened.
// Thread-safe (const after construction).
#pragma once

#include <optional>
#include <string>

#include "bot/bot_options.h"
#include "bot/dialogue.h"

namespace kefu::bot {

class DialoguePolicy {
 public:
  explicit DialoguePolicy(BotOptions options);

  const BotOptions& options() const { return options_; }

  // The (normalised-whitespace, truncated to max_query_code_points) query for the matcher, or
  // nullopt when Decide will not look at a match for this input.
  std::optional<std::string> MatchQuery(const DialogueState& state, const PolicyInput& input) const;

  Decision Decide(const DialogueState& state, const PolicyInput& input, const MatchResult& match,
                  const ServiceWindow& window) const;

  // The "agent joined" reply for an agent name.
  Reply AgentJoined(const std::string& agent) const;

  // The queue position update "您当前排在第 N 位…".
  Reply QueueUpdate(int position) const;
  // Whether a queue move from `announced` (last told, 0 = never) to `position` is worth pushing:
  // an improvement to at most queue_update_near, or by at least queue_update_step places.
  bool ShouldPushQueueMove(int announced, int position) const;

  // Replaces "{position}" in every kHandoffNotice reply of `decision` with `position` (1-based)
  // and remembers it as announced (decision.next.announced_position).
  static void FillQueuePosition(Decision& decision, int position);

  // "今天 18:00" / "明天 09:00" / "11月25日 09:00" for `t` relative to `now`, in the display
  // time zone (display_utc_offset_minutes).
  std::string FormatResumeTime(TimePoint t, TimePoint now) const;

 private:
  // kHandoffPhrase: a short message containing a hand-off phrase ("人工客服什么时候上班"); it hands
  // off unless the matcher answers it with answer confidence.
  enum class TextKind {
    kChoice,
    kHandoff,
    kHandoffPhrase,
    kFeedbackYes,
    kFeedbackNo,
    kEmpty,
    kQuestion
  };
  TextKind Classify(const DialogueState& state, const PolicyInput& input, int& choice) const;
  bool IsHandoffKeyword(const std::string& normalized) const;
  bool HasHandoffPhrase(const std::string& normalized) const;

  Reply Greeting(const std::string& channel) const;
  Reply Answer(const MatchCandidate& c, const std::string& channel) const;
  Reply FeedbackQuestion(const std::string& channel) const;
  Reply Suggestions(const std::vector<MatchCandidate>& c, const std::string& channel) const;
  Reply NotUnderstood(const std::string& channel) const;
  Reply OfferHandoff(std::string text, ReplyPurpose purpose, const std::string& channel) const;
  Reply HandoffNotice(const ServiceWindow& window, TimePoint now) const;
  ReplyButton HandoffButton() const;

  // Fills `d` with an answer to candidate `c` (and the feedback question).
  void AnswerInto(Decision& d, const MatchCandidate& c, const std::string& channel) const;
  void HandoffInto(Decision& d, HandoffReason reason, const ServiceWindow& window,
                   TimePoint now) const;
  bool ShouldGreetOnEnter(const DialogueState& state, TimePoint now) const;

  BotOptions options_;
};

}  // namespace kefu::bot
