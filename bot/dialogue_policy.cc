#include "bot/dialogue_policy.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>

#include "bot/text_util.h"

namespace kefu::bot {
namespace {

constexpr std::size_t kMaxRememberedQuestionCodePoints = 200;

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  for (std::size_t pos = s.find(from); pos != std::string::npos;
       pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

Reply MakeReply(ReplyPurpose purpose, std::string text) {
  Reply r;
  r.purpose = purpose;
  r.format = ReplyFormat::kText;
  r.text = std::move(text);
  return r;
}

bool IsEnterEvent(std::string_view event) {
  return event == "enter_agent" || event == "enter_session" || event == "subscribe";
}

// Plain-text rendering of the Markdown subset FAQ answers use: headings, emphasis, quotes and
// links ("[text](url)" -> "text（url）").
std::string StripMarkdown(std::string_view md) {
  std::string out;
  out.reserve(md.size());
  bool line_start = true;
  for (std::size_t i = 0; i < md.size();) {
    if (line_start) {
      std::size_t j = i;
      while (j < md.size() && md[j] == '#')
        ++j;
      if (j > i && j < md.size() && md[j] == ' ') {
        i = j + 1;
      } else if (md.substr(i, 2) == "> ") {
        i += 2;
      }
      line_start = false;
      continue;
    }
    if (md.substr(i, 2) == "**" || md.substr(i, 2) == "__") {
      i += 2;
      continue;
    }
    if (md[i] == '[') {
      const std::size_t close = md.find("](", i);
      const std::size_t nl = md.find('\n', i);
      if (close != std::string_view::npos && (nl == std::string_view::npos || close < nl)) {
        const std::size_t end = md.find(')', close);
        if (end != std::string_view::npos && (nl == std::string_view::npos || end < nl)) {
          out.append(md.substr(i + 1, close - i - 1));
          out.append("（");
          out.append(md.substr(close + 2, end - close - 2));
          out.append("）");
          i = end + 1;
          continue;
        }
      }
    }
    out.push_back(md[i]);
    line_start = md[i] == '\n';
    ++i;
  }
  return out;
}

std::string Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  const std::size_t e = s.find_last_not_of(kSpace);
  return std::string(s.substr(b, e - b + 1));
}

std::vector<MatchCandidate> WithoutAnswers(std::vector<MatchCandidate> candidates) {
  for (auto& c : candidates)
    c.answer.clear();
  return candidates;
}

bool Contains(const std::vector<std::string>& list, const std::string& normalized) {
  return std::any_of(list.begin(), list.end(), [&normalized](const std::string& w) {
    return NormalizeForMatch(w) == normalized;
  });
}

}  // namespace

DialoguePolicy::DialoguePolicy(BotOptions options) : options_(std::move(options)) {}

bool DialoguePolicy::IsHandoffKeyword(const std::string& normalized) const {
  return !normalized.empty() && Contains(options_.handoff_keywords, normalized);
}

bool DialoguePolicy::HasHandoffPhrase(const std::string& normalized) const {
  if (normalized.empty() || CountCodePoints(normalized) >
                                static_cast<std::size_t>(options_.handoff_phrase_max_code_points)) {
    return false;
  }
  return std::any_of(options_.handoff_phrases.begin(), options_.handoff_phrases.end(),
                     [&normalized](const std::string& p) {
                       const std::string n = NormalizeForMatch(p);
                       return !n.empty() && normalized.find(n) != std::string::npos;
                     });
}

DialoguePolicy::TextKind DialoguePolicy::Classify(const DialogueState& state,
                                                  const PolicyInput& input, int& choice) const {
  if (IsBlankOrEmojiOnly(input.text)) return TextKind::kEmpty;
  const std::string normalized = NormalizeForMatch(input.text);
  if (IsHandoffKeyword(normalized)) return TextKind::kHandoff;
  if (!state.pending_suggestions.empty()) {
    if (const auto n = ParseChoiceNumber(normalized);
        n && *n <= static_cast<int>(state.pending_suggestions.size())) {
      choice = *n - 1;
      return TextKind::kChoice;
    }
    for (std::size_t k = 0; k < state.pending_suggestions.size(); ++k) {
      if (NormalizeForMatch(state.pending_suggestions[k].question) == normalized) {
        choice = static_cast<int>(k);
        return TextKind::kChoice;
      }
    }
  }
  if (state.awaiting_feedback) {
    if (Contains(options_.feedback_yes, normalized)) return TextKind::kFeedbackYes;
    if (Contains(options_.feedback_no, normalized)) return TextKind::kFeedbackNo;
  }
  if (HasHandoffPhrase(normalized)) return TextKind::kHandoffPhrase;
  return TextKind::kQuestion;
}

std::optional<std::string> DialoguePolicy::MatchQuery(const DialogueState& state,
                                                      const PolicyInput& input) const {
  if (input.type != InboundType::kText) return std::nullopt;
  if (state.state == ConversationState::kWaitingAgent ||
      state.state == ConversationState::kWithAgent) {
    return std::nullopt;
  }
  const DialogueState effective =
      state.state == ConversationState::kClosed ? DialogueState{} : state;
  int choice = 0;
  const TextKind kind = Classify(effective, input, choice);
  if (kind != TextKind::kQuestion && kind != TextKind::kHandoffPhrase) return std::nullopt;
  return Trim(
      TruncateCodePoints(input.text, static_cast<std::size_t>(options_.max_query_code_points)));
}

Decision DialoguePolicy::Decide(const DialogueState& state, const PolicyInput& input,
                                const MatchResult& match, const ServiceWindow& window) const {
  Decision d;
  d.next = state;
  const std::string& channel = input.channel;

  if (state.state == ConversationState::kWaitingAgent ||
      state.state == ConversationState::kWithAgent) {
    if (input.type == InboundType::kEvent) return d;
    d.forward_to_agent = true;
    const std::string normalized =
        input.type == InboundType::kText ? NormalizeForMatch(input.text) : std::string();
    const bool asks_again = (input.type == InboundType::kText &&
                             (IsHandoffKeyword(normalized) || HasHandoffPhrase(normalized))) ||
                            (input.type == InboundType::kButton && input.button == kButtonHandoff);
    if (state.state == ConversationState::kWaitingAgent && asks_again) {
      d.repeat_queue_position = true;
      d.replies.push_back(HandoffNotice(window, input.now));
    } else if (state.state == ConversationState::kWaitingAgent && input.queue_position &&
               *input.queue_position != state.announced_position) {
      // Anything else while queued: the agent sees it on the ticket; the customer hears the
      // position when it moved since they were last told (网易七鱼-style "您前面还有 N 人").
      d.replies.push_back(QueueUpdate(*input.queue_position));
      d.next.announced_position = *input.queue_position;
    }
    return d;
  }

  if (state.state == ConversationState::kClosed) {
    // A new contact after the conversation ended starts over with the bot; the greeting memory
    // survives so a returning customer is not greeted twice in a short time.
    d.next = DialogueState{};
    d.next.greeted = state.greeted;
    d.next.last_greeted_at = state.last_greeted_at;
  }

  if (input.type == InboundType::kEvent) {
    if (IsEnterEvent(input.event) && ShouldGreetOnEnter(d.next, input.now)) {
      d.replies.push_back(Greeting(channel));
      d.next.greeted = true;
      d.next.last_greeted_at = input.now;
    }
    return d;
  }

  if (!d.next.greeted) {
    d.replies.push_back(Greeting(channel));
    d.next.greeted = true;
    d.next.last_greeted_at = input.now;
  }

  if (input.type == InboundType::kButton) {
    if (input.button == kButtonHandoff) {
      HandoffInto(d, HandoffReason::kButton, window, input.now);
    } else if (input.button.starts_with(kButtonPickPrefix)) {
      const std::string_view n = std::string_view(input.button).substr(kButtonPickPrefix.size());
      const auto k = ParseChoiceNumber(n);
      if (k && *k <= static_cast<int>(d.next.pending_suggestions.size())) {
        const MatchCandidate picked = d.next.pending_suggestions[static_cast<std::size_t>(*k - 1)];
        AnswerInto(d, picked, channel);
      }
    } else if (input.button == kButtonFeedbackYes || input.button == kButtonFeedbackNo) {
      PolicyInput as_text = input;
      as_text.type = InboundType::kText;
      as_text.text = input.button == kButtonFeedbackYes ? options_.feedback_yes.front()
                                                        : options_.feedback_no.front();
      if (d.next.awaiting_feedback) {
        Decision inner = Decide(d.next, as_text, match, window);
        d.replies.insert(d.replies.end(), inner.replies.begin(), inner.replies.end());
        d.next = std::move(inner.next);
        d.handoff = std::move(inner.handoff);
        d.feedback = inner.feedback;
      }
    }
    return d;
  }

  if (input.type != InboundType::kText) {
    d.replies.push_back(OfferHandoff(options_.text_only, ReplyPurpose::kTextOnly, channel));
    return d;
  }

  int choice = 0;
  switch (Classify(d.next, input, choice)) {
    case TextKind::kEmpty:
      d.replies.push_back(MakeReply(ReplyPurpose::kEmptyPrompt, options_.empty_prompt));
      return d;
    case TextKind::kHandoff:
      HandoffInto(d, HandoffReason::kKeyword, window, input.now);
      return d;
    case TextKind::kHandoffPhrase: {
      const bool answerable = std::any_of(
          match.candidates.begin(), match.candidates.end(),
          [this](const MatchCandidate& c) { return c.confidence >= options_.answer_threshold; });
      if (!answerable) {
        HandoffInto(d, HandoffReason::kKeyword, window, input.now);
        return d;
      }
      break;  // a question about human service that the FAQ answers
    }
    case TextKind::kChoice: {
      const MatchCandidate picked = d.next.pending_suggestions[static_cast<std::size_t>(choice)];
      AnswerInto(d, picked, channel);
      return d;
    }
    case TextKind::kFeedbackYes:
      d.next.awaiting_feedback = false;
      if (d.next.last_answered_faq_id) {
        d.feedback = FeedbackAction{*d.next.last_answered_faq_id, true};
      }
      d.replies.push_back(MakeReply(ReplyPurpose::kFeedbackThanks, options_.feedback_thanks));
      return d;
    case TextKind::kFeedbackNo:
      d.next.awaiting_feedback = false;
      if (d.next.last_answered_faq_id) {
        d.feedback = FeedbackAction{*d.next.last_answered_faq_id, false};
      }
      if (options_.handoff_on_negative_feedback) {
        HandoffInto(d, HandoffReason::kNegativeFeedback, window, input.now);
      } else {
        d.replies.push_back(
            OfferHandoff(options_.feedback_sorry, ReplyPurpose::kNotUnderstood, channel));
      }
      return d;
    case TextKind::kQuestion:
      break;
  }

  // A new question: forget the previous turn's choices and feedback question.
  d.next.pending_suggestions.clear();
  d.next.awaiting_feedback = false;
  d.next.last_question = Trim(TruncateCodePoints(input.text, kMaxRememberedQuestionCodePoints));

  std::vector<MatchCandidate> ranked = match.candidates;
  std::stable_sort(
      ranked.begin(), ranked.end(),
      [](const MatchCandidate& a, const MatchCandidate& b) { return a.confidence > b.confidence; });
  const auto max_n = static_cast<std::size_t>(options_.max_suggestions);
  if (ranked.size() > max_n) ranked.resize(max_n);
  d.next.last_tried = WithoutAnswers(ranked);

  if (!ranked.empty() && ranked.front().confidence >= options_.answer_threshold) {
    AnswerInto(d, ranked.front(), channel);
    return d;
  }
  std::vector<MatchCandidate> suggestions;
  for (const auto& c : ranked) {
    if (c.confidence >= options_.suggest_threshold) suggestions.push_back(c);
  }
  if (!suggestions.empty()) {
    d.next.consecutive_misses = 0;
    d.replies.push_back(Suggestions(suggestions, channel));
    d.next.pending_suggestions = std::move(suggestions);
    return d;
  }
  ++d.next.consecutive_misses;
  if (options_.handoff_after_misses > 0 &&
      d.next.consecutive_misses >= options_.handoff_after_misses) {
    HandoffInto(d, HandoffReason::kConsecutiveMisses, window, input.now);
    return d;
  }
  d.replies.push_back(NotUnderstood(channel));
  return d;
}

void DialoguePolicy::AnswerInto(Decision& d, const MatchCandidate& c,
                                const std::string& channel) const {
  d.replies.push_back(Answer(c, channel));
  d.next.pending_suggestions.clear();
  d.next.consecutive_misses = 0;
  d.next.last_answered_faq_id = c.faq_id;
  d.next.awaiting_feedback = options_.ask_feedback;
  if (options_.ask_feedback) d.replies.push_back(FeedbackQuestion(channel));
}

void DialoguePolicy::HandoffInto(Decision& d, HandoffReason reason, const ServiceWindow& window,
                                 TimePoint now) const {
  HandoffAction action;
  action.reason = reason;
  action.last_question = d.next.last_question;
  action.tried = d.next.last_tried;

  std::string note = "【机器人摘要】\n转人工原因：";
  switch (reason) {
    case HandoffReason::kKeyword:
      note += "客户要求转人工";
      break;
    case HandoffReason::kConsecutiveMisses:
      note += "连续 " + std::to_string(d.next.consecutive_misses) + " 次未能识别客户的问题";
      break;
    case HandoffReason::kNegativeFeedback:
      note += "客户反馈机器人的回答没有解决问题";
      break;
    case HandoffReason::kButton:
      note += "客户点击了转人工按钮";
      break;
  }
  note += "\n客户最后的问题：";
  note += action.last_question.empty() ? "（无）" : action.last_question;
  if (action.tried.empty()) {
    note += "\n机器人尝试的FAQ：（无匹配）";
  } else {
    note += "\n机器人尝试的FAQ：";
    for (const auto& c : action.tried) {
      char score[32];
      std::snprintf(score, sizeof score, "%.2f", c.confidence);
      note += "\n- [" + c.faq_id + "] " + c.question + "（置信度 " + score + "）";
    }
  }
  if (d.next.last_answered_faq_id) {
    note += "\n最后回答的FAQ：[" + *d.next.last_answered_faq_id + "]";
  }
  action.summary_note = std::move(note);

  d.handoff = std::move(action);
  d.replies.push_back(HandoffNotice(window, now));
  d.next.state = ConversationState::kWaitingAgent;
  d.next.pending_suggestions.clear();
  d.next.awaiting_feedback = false;
  d.next.consecutive_misses = 0;
}

bool DialoguePolicy::ShouldGreetOnEnter(const DialogueState& state, TimePoint now) const {
  if (!state.last_greeted_at) return true;
  return now - *state.last_greeted_at >= std::chrono::minutes(options_.greeting_interval_minutes);
}

Reply DialoguePolicy::Greeting(const std::string& channel) const {
  const ChannelTemplate& t = options_.TemplateFor(channel);
  std::string text = t.greeting.empty() ? options_.greeting : t.greeting;
  ReplaceAll(text, "{bot_name}", options_.bot_name);
  return MakeReply(ReplyPurpose::kGreeting, std::move(text));
}

Reply DialoguePolicy::Answer(const MatchCandidate& c, const std::string& channel) const {
  const ChannelTemplate& t = options_.TemplateFor(channel);
  Reply r;
  r.purpose = ReplyPurpose::kAnswer;
  r.faq_id = c.faq_id;
  r.title = c.question;
  if (t.answer_format == ReplyFormat::kText) {
    r.format = ReplyFormat::kText;
    r.text = StripMarkdown(c.answer);
  } else {
    r.format = ReplyFormat::kMarkdown;
    r.text = c.answer;
  }
  return r;
}

Reply DialoguePolicy::FeedbackQuestion(const std::string& channel) const {
  Reply r = MakeReply(ReplyPurpose::kFeedbackQuestion, options_.feedback_question);
  if (options_.TemplateFor(channel).buttons) {
    r.format = ReplyFormat::kActionCard;
    r.title = options_.feedback_question;
    r.buttons = {
        {options_.button_yes, std::string(kButtonFeedbackYes), options_.feedback_yes.front()},
        {options_.button_no, std::string(kButtonFeedbackNo), options_.feedback_no.front()}};
  }
  return r;
}

Reply DialoguePolicy::Suggestions(const std::vector<MatchCandidate>& candidates,
                                  const std::string& channel) const {
  Reply r = MakeReply(ReplyPurpose::kSuggestions, options_.suggestions_header);
  r.title = options_.suggestions_header;
  for (std::size_t k = 0; k < candidates.size(); ++k) {
    r.text.append("\n").append(std::to_string(k + 1)).append(". ").append(candidates[k].question);
  }
  if (!options_.suggestions_footer.empty()) r.text.append("\n").append(options_.suggestions_footer);
  if (options_.TemplateFor(channel).buttons) {
    r.format = ReplyFormat::kActionCard;
    for (std::size_t k = 0; k < candidates.size(); ++k) {
      const std::string n = std::to_string(k + 1);
      r.buttons.push_back(
          {n + ". " + candidates[k].question, std::string(kButtonPickPrefix) + n, n});
    }
    r.buttons.push_back(HandoffButton());
  }
  return r;
}

ReplyButton DialoguePolicy::HandoffButton() const {
  return {options_.button_handoff, std::string(kButtonHandoff),
          options_.handoff_keywords.empty() ? options_.button_handoff
                                            : options_.handoff_keywords.front()};
}

Reply DialoguePolicy::NotUnderstood(const std::string& channel) const {
  const ChannelTemplate& t = options_.TemplateFor(channel);
  return OfferHandoff(t.not_understood.empty() ? options_.not_understood : t.not_understood,
                      ReplyPurpose::kNotUnderstood, channel);
}

Reply DialoguePolicy::OfferHandoff(std::string text, ReplyPurpose purpose,
                                   const std::string& channel) const {
  Reply r = MakeReply(purpose, std::move(text));
  if (options_.TemplateFor(channel).buttons) {
    r.format = ReplyFormat::kActionCard;
    r.title = r.text;
    r.buttons = {HandoffButton()};
  }
  return r;
}

Reply DialoguePolicy::HandoffNotice(const ServiceWindow& window, TimePoint now) const {
  Reply r = MakeReply(ReplyPurpose::kHandoffNotice, "");
  if (window.open) {
    r.text = options_.handoff_queued;
  } else if (window.next_opening) {
    r.text = options_.handoff_outside_hours;
    ReplaceAll(r.text, "{resume_time}", FormatResumeTime(*window.next_opening, now));
  } else {
    r.text = options_.handoff_outside_hours_unknown;
  }
  return r;
}

Reply DialoguePolicy::AgentJoined(const std::string& agent) const {
  std::string text = options_.agent_joined;
  ReplaceAll(text, "{agent}", agent);
  return MakeReply(ReplyPurpose::kAgentJoined, std::move(text));
}

Reply DialoguePolicy::QueueUpdate(int position) const {
  std::string text = options_.queue_update;
  ReplaceAll(text, "{position}", std::to_string(position));
  return MakeReply(ReplyPurpose::kQueueUpdate, std::move(text));
}

bool DialoguePolicy::ShouldPushQueueMove(int announced, int position) const {
  if (announced <= 0 || position <= 0 || position >= announced) return false;
  if (position <= options_.queue_update_near) return true;
  return options_.queue_update_step > 0 && announced - position >= options_.queue_update_step;
}

void DialoguePolicy::FillQueuePosition(Decision& decision, int position) {
  for (auto& r : decision.replies) {
    if (r.purpose == ReplyPurpose::kHandoffNotice) {
      ReplaceAll(r.text, "{position}", std::to_string(position));
      decision.next.announced_position = position;
    }
  }
}

std::string DialoguePolicy::FormatResumeTime(TimePoint t, TimePoint now) const {
  using namespace std::chrono;
  const minutes offset(options_.display_utc_offset_minutes);
  const auto local_t = t + offset;
  const auto local_now = now + offset;
  const auto day_t = floor<days>(local_t);
  const auto day_now = floor<days>(local_now);
  const auto tod = duration_cast<minutes>(local_t - day_t);
  char hm[16];
  std::snprintf(hm, sizeof hm, "%02d:%02d", static_cast<int>(tod.count() / 60),
                static_cast<int>(tod.count() % 60));
  const auto diff = (day_t - day_now).count();
  if (diff == 0) return std::string("今天 ") + hm;
  if (diff == 1) return std::string("明天 ") + hm;
  const year_month_day ymd{day_t};
  return std::to_string(static_cast<unsigned>(ymd.month())) + "月" +
         std::to_string(static_cast<unsigned>(ymd.day())) + "日 " + hm;
}

}  // namespace kefu::bot
