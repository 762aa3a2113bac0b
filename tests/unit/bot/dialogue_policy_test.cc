#include "bot/dialogue_policy.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace kefu::bot {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kNow = FromUnixSeconds(1'767'225'600);  // 2026-01-01 00:00 UTC = 08:00 +08

MatchCandidate Faq(int id, double confidence) {
  const std::string n = std::to_string(id);
  return {"faq-" + n, "问题" + n, "答案" + n, confidence};
}

MatchResult Match(std::vector<MatchCandidate> c) {
  return {std::move(c)};
}

PolicyInput Text(std::string text, std::string channel = "wecom") {
  PolicyInput in;
  in.type = InboundType::kText;
  in.text = std::move(text);
  in.channel = std::move(channel);
  in.now = kNow;
  return in;
}

PolicyInput Of(InboundType type) {
  PolicyInput in;
  in.type = type;
  in.channel = "wecom";
  in.now = kNow;
  return in;
}

PolicyInput Event(std::string event) {
  PolicyInput in = Of(InboundType::kEvent);
  in.event = std::move(event);
  return in;
}

PolicyInput Button(std::string payload) {
  PolicyInput in = Of(InboundType::kButton);
  in.button = std::move(payload);
  in.channel = "dingtalk";
  return in;
}

DialogueState Greeted(ConversationState s = ConversationState::kBot) {
  DialogueState st;
  st.state = s;
  st.greeted = true;
  st.last_greeted_at = kNow - minutes(5);
  return st;
}

DialogueState WithSuggestions() {
  DialogueState st = Greeted();
  st.pending_suggestions = {Faq(11, 0.6), Faq(12, 0.55), Faq(13, 0.5)};
  st.last_question = "退款";
  return st;
}

DialogueState AwaitingFeedback() {
  DialogueState st = Greeted();
  st.awaiting_feedback = true;
  st.last_answered_faq_id = "faq-7";
  st.last_question = "怎么退款";
  st.last_tried = {{"faq-7", "问题7", "", 0.9}};
  return st;
}

DialogueState OneMiss() {
  DialogueState st = Greeted();
  st.consecutive_misses = 1;
  st.last_question = "火星快递";
  return st;
}

using P = ReplyPurpose;
using S = ConversationState;

struct Row {
  const char* name;
  DialogueState state;
  PolicyInput input;
  MatchResult match;
  // Expected:
  std::vector<ReplyPurpose> replies;
  ConversationState next_state;
  std::optional<std::string> answered_faq = std::nullopt;  // faq_id of the kAnswer reply
  std::optional<HandoffReason> handoff = std::nullopt;
  std::optional<bool> feedback_helpful = std::nullopt;
  int pending_after = 0;
  int misses_after = 0;
  bool forward = false;
  bool match_needed = false;  // MatchQuery returns a query
};

const ServiceWindow kOpen{true, std::nullopt};

std::vector<Row> Table() {
  std::vector<Row> rows = {
      {"first contact greets then answers",
       DialogueState{},
       Text("怎么申请退款"),
       Match({Faq(1, 0.92), Faq(2, 0.4)}),
       {P::kGreeting, P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-1",
       std::nullopt,
       std::nullopt,
       0,
       0,
       false,
       true},
      {"enter_agent on a new conversation greets",
       DialogueState{},
       Event("enter_agent"),
       {},
       {P::kGreeting},
       S::kBot},
      {"enter_session greets after the interval",
       [] {
         DialogueState s = Greeted();
         s.last_greeted_at = kNow - hours(13);
         return s;
       }(),
       Event("enter_session"),
       {},
       {P::kGreeting},
       S::kBot},
      {"enter_agent inside the interval is silent",
       Greeted(),
       Event("enter_agent"),
       {},
       {},
       S::kBot},
      {"unknown event is silent", Greeted(), Event("LOCATION"), {}, {}, S::kBot},
      {"high confidence answers",
       Greeted(),
       Text("快递到哪了"),
       Match({Faq(5, 0.8)}),
       {P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-5",
       std::nullopt,
       std::nullopt,
       0,
       0,
       false,
       true},
      {"exactly the answer threshold answers",
       Greeted(),
       Text("发票"),
       Match({Faq(5, 0.8)}),
       {P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-5",
       std::nullopt,
       std::nullopt,
       0,
       0,
       false,
       true},
      {"best candidate wins regardless of input order",
       Greeted(),
       Text("发票"),
       Match({Faq(3, 0.5), Faq(4, 0.9)}),
       {P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-4",
       std::nullopt,
       std::nullopt,
       0,
       0,
       false,
       true},
      {"middle confidence suggests up to three",
       Greeted(),
       Text("退款"),
       Match({Faq(11, 0.6), Faq(12, 0.55), Faq(13, 0.5), Faq(14, 0.42)}),
       {P::kSuggestions},
       S::kBot,
       std::nullopt,
       std::nullopt,
       std::nullopt,
       3,
       0,
       false,
       true},
      {"suggestions skip candidates below suggest",
       Greeted(),
       Text("退款"),
       Match({Faq(11, 0.6), Faq(12, 0.39)}),
       {P::kSuggestions},
       S::kBot,
       std::nullopt,
       std::nullopt,
       std::nullopt,
       1,
       0,
       false,
       true},
      {"low confidence is a miss",
       Greeted(),
       Text("火星快递"),
       Match({Faq(9, 0.2)}),
       {P::kNotUnderstood},
       S::kBot,
       std::nullopt,
       std::nullopt,
       std::nullopt,
       0,
       1,
       false,
       true},
      {"no candidates is a miss",
       Greeted(),
       Text("火星快递"),
       Match({}),
       {P::kNotUnderstood},
       S::kBot,
       std::nullopt,
       std::nullopt,
       std::nullopt,
       0,
       1,
       false,
       true},
      {"second miss in a row hands off",
       OneMiss(),
       Text("木星快递"),
       Match({Faq(9, 0.1)}),
       {P::kHandoffNotice},
       S::kWaitingAgent,
       std::nullopt,
       HandoffReason::kConsecutiveMisses,
       std::nullopt,
       0,
       0,
       false,
       true},
      {"an answer resets the miss count",
       OneMiss(),
       Text("退款"),
       Match({Faq(1, 0.9)}),
       {P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-1",
       std::nullopt,
       std::nullopt,
       0,
       0,
       false,
       true},
      {"digit picks a suggestion",
       WithSuggestions(),
       Text("2"),
       {},
       {P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-12"},
      {"full-width digit picks a suggestion",
       WithSuggestions(),
       Text("２"),
       {},
       {P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-12"},
      {"第二个 picks a suggestion",
       WithSuggestions(),
       Text("第二个"),
       {},
       {P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-12"},
      {"二 picks a suggestion",
       WithSuggestions(),
       Text("二"),
       {},
       {P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-12"},
      {"第3条 picks a suggestion",
       WithSuggestions(),
       Text("第3条。"),
       {},
       {P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-13"},
      {"candidate text picks a suggestion",
       WithSuggestions(),
       Text("问题11？"),
       {},
       {P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-11"},
      {"out-of-range number is a new question",
       WithSuggestions(),
       Text("5"),
       Match({Faq(20, 0.1)}),
       {P::kNotUnderstood},
       S::kBot,
       std::nullopt,
       std::nullopt,
       std::nullopt,
       0,
       1,
       false,
       true},
      {"a new question replaces the suggestions",
       WithSuggestions(),
       Text("怎么开发票"),
       Match({Faq(30, 0.95)}),
       {P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-30",
       std::nullopt,
       std::nullopt,
       0,
       0,
       false,
       true},
      {"转人工 hands off",
       Greeted(),
       Text("转人工"),
       {},
       {P::kHandoffNotice},
       S::kWaitingAgent,
       std::nullopt,
       HandoffReason::kKeyword},
      {"人工 alone hands off",
       Greeted(),
       Text("人工！"),
       {},
       {P::kHandoffNotice},
       S::kWaitingAgent,
       std::nullopt,
       HandoffReason::kKeyword},
      {"人工客服 hands off",
       Greeted(),
       Text("人工客服"),
       {},
       {P::kHandoffNotice},
       S::kWaitingAgent,
       std::nullopt,
       HandoffReason::kKeyword},
      {"找客服 hands off",
       Greeted(),
       Text("找客服"),
       {},
       {P::kHandoffNotice},
       S::kWaitingAgent,
       std::nullopt,
       HandoffReason::kKeyword},
      {"投诉 hands off",
       Greeted(),
       Text("投诉"),
       {},
       {P::kHandoffNotice},
       S::kWaitingAgent,
       std::nullopt,
       HandoffReason::kKeyword},
      {"short sentence with 转人工 hands off",
       Greeted(),
       Text("你好，我要转人工"),
       Match({Faq(60, 0.3)}),
       {P::kHandoffNotice},
       S::kWaitingAgent,
       std::nullopt,
       HandoffReason::kKeyword,
       std::nullopt,
       0,
       0,
       false,
       true},
      {"a question about 人工客服 the FAQ answers is answered",
       Greeted(),
       Text("人工客服什么时候上班？"),
       Match({Faq(61, 0.9)}),
       {P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-61",
       std::nullopt,
       std::nullopt,
       0,
       0,
       false,
       true},
      {"a question mentioning 客服 is matched",
       Greeted(),
       Text("你们客服电话是多少"),
       Match({Faq(40, 0.9)}),
       {P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-40",
       std::nullopt,
       std::nullopt,
       0,
       0,
       false,
       true},
      {"keyword wins over pending suggestions",
       WithSuggestions(),
       Text("转人工"),
       {},
       {P::kHandoffNotice},
       S::kWaitingAgent,
       std::nullopt,
       HandoffReason::kKeyword},
      {"DingTalk hand-off button hands off",
       Greeted(),
       Button("handoff"),
       {},
       {P::kHandoffNotice},
       S::kWaitingAgent,
       std::nullopt,
       HandoffReason::kButton},
      {"DingTalk pick button answers",
       WithSuggestions(),
       Button("pick:1"),
       {},
       {P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-11"},
      {"是 is positive feedback",
       AwaitingFeedback(),
       Text("是"),
       {},
       {P::kFeedbackThanks},
       S::kBot,
       std::nullopt,
       std::nullopt,
       true},
      {"否 is negative feedback and hands off",
       AwaitingFeedback(),
       Text("否"),
       {},
       {P::kHandoffNotice},
       S::kWaitingAgent,
       std::nullopt,
       HandoffReason::kNegativeFeedback,
       false},
      {"没解决 is negative feedback",
       AwaitingFeedback(),
       Text("没解决。"),
       {},
       {P::kHandoffNotice},
       S::kWaitingAgent,
       std::nullopt,
       HandoffReason::kNegativeFeedback,
       false},
      {"feedback button 否 hands off",
       AwaitingFeedback(),
       Button("feedback:no"),
       {},
       {P::kHandoffNotice},
       S::kWaitingAgent,
       std::nullopt,
       HandoffReason::kNegativeFeedback,
       false},
      {"否 without a feedback question is a question",
       Greeted(),
       Text("否"),
       Match({Faq(9, 0.1)}),
       {P::kNotUnderstood},
       S::kBot,
       std::nullopt,
       std::nullopt,
       std::nullopt,
       0,
       1,
       false,
       true},
      {"a new question instead of feedback is answered",
       AwaitingFeedback(),
       Text("发票怎么开"),
       Match({Faq(8, 0.9)}),
       {P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-8",
       std::nullopt,
       std::nullopt,
       0,
       0,
       false,
       true},
      {"image says text only", Greeted(), Of(InboundType::kImage), {}, {P::kTextOnly}, S::kBot},
      {"voice says text only", Greeted(), Of(InboundType::kVoice), {}, {P::kTextOnly}, S::kBot},
      {"first contact with an image greets then says text only",
       DialogueState{},
       Of(InboundType::kImage),
       {},
       {P::kGreeting, P::kTextOnly},
       S::kBot},
      {"empty text prompts without a miss",
       OneMiss(),
       Text(""),
       {},
       {P::kEmptyPrompt},
       S::kBot,
       std::nullopt,
       std::nullopt,
       std::nullopt,
       0,
       1},
      {"whitespace only prompts", Greeted(), Text(" \n\t　"), {}, {P::kEmptyPrompt}, S::kBot},
      {"emoji only prompts", Greeted(), Text("😀👍🏻❤️"), {}, {P::kEmptyPrompt}, S::kBot},
      {"WeChat emoticon codes only prompt",
       Greeted(),
       Text("[微笑][OK]"),
       {},
       {P::kEmptyPrompt},
       S::kBot},
      {"waiting_agent stays silent and forwards",
       Greeted(S::kWaitingAgent),
       Text("在吗"),
       {},
       {},
       S::kWaitingAgent,
       std::nullopt,
       std::nullopt,
       std::nullopt,
       0,
       0,
       true},
      {"waiting_agent repeats the queue position on 转人工",
       Greeted(S::kWaitingAgent),
       Text("转人工"),
       {},
       {P::kHandoffNotice},
       S::kWaitingAgent,
       std::nullopt,
       std::nullopt,
       std::nullopt,
       0,
       0,
       true},
      {"with_agent stays silent even on keywords",
       Greeted(S::kWithAgent),
       Text("转人工"),
       {},
       {},
       S::kWithAgent,
       std::nullopt,
       std::nullopt,
       std::nullopt,
       0,
       0,
       true},
      {"with_agent forwards images silently",
       Greeted(S::kWithAgent),
       Of(InboundType::kImage),
       {},
       {},
       S::kWithAgent,
       std::nullopt,
       std::nullopt,
       std::nullopt,
       0,
       0,
       true},
      {"with_agent ignores enter events",
       Greeted(S::kWithAgent),
       Event("enter_agent"),
       {},
       {},
       S::kWithAgent},
      {"closed conversation starts over with the bot",
       Greeted(S::kClosed),
       Text("退款"),
       Match({Faq(1, 0.9)}),
       {P::kAnswer, P::kFeedbackQuestion},
       S::kBot,
       "faq-1",
       std::nullopt,
       std::nullopt,
       0,
       0,
       false,
       true},
  };
  return rows;
}

TEST(DialoguePolicy, TableOfStateMessageMatchToReplyAndState) {
  const DialoguePolicy policy{BotOptions{}};
  for (const Row& row : Table()) {
    SCOPED_TRACE(row.name);
    const Decision d = policy.Decide(row.state, row.input, row.match, kOpen);
    std::vector<ReplyPurpose> purposes;
    std::optional<std::string> answered;
    for (const Reply& r : d.replies) {
      purposes.push_back(r.purpose);
      EXPECT_FALSE(r.text.empty());
      if (r.purpose == ReplyPurpose::kAnswer) answered = r.faq_id;
    }
    EXPECT_EQ(purposes, row.replies);
    EXPECT_EQ(d.next.state, row.next_state);
    EXPECT_EQ(answered, row.answered_faq);
    EXPECT_EQ(d.handoff.has_value(), row.handoff.has_value());
    if (d.handoff && row.handoff) {
      EXPECT_EQ(d.handoff->reason, *row.handoff);
    }
    EXPECT_EQ(d.feedback.has_value(), row.feedback_helpful.has_value());
    if (d.feedback && row.feedback_helpful) {
      EXPECT_EQ(d.feedback->helpful, *row.feedback_helpful);
      EXPECT_EQ(d.feedback->faq_id, "faq-7");
    }
    EXPECT_EQ(static_cast<int>(d.next.pending_suggestions.size()), row.pending_after);
    EXPECT_EQ(d.next.consecutive_misses, row.misses_after);
    EXPECT_EQ(d.forward_to_agent, row.forward);
    EXPECT_EQ(policy.MatchQuery(row.state, row.input).has_value(), row.match_needed);
    if (d.next.state == ConversationState::kBot) {
      EXPECT_EQ(d.next.awaiting_feedback, answered.has_value());
    }
  }
}

TEST(DialoguePolicy, AnswerCarriesTheFaqTextAndSuggestionsAreNumbered) {
  const DialoguePolicy policy{BotOptions{}};
  Decision d = policy.Decide(Greeted(), Text("退款"),
                             Match({Faq(11, 0.6), Faq(12, 0.55), Faq(13, 0.5)}), kOpen);
  ASSERT_EQ(d.replies.size(), 1u);
  EXPECT_EQ(d.replies[0].text,
            "您是否想问：\n1. 问题11\n2. 问题12\n3. 问题13\n"
            "请回复序号（如“1”）选择，或换个说法描述您的问题。");
  d = policy.Decide(d.next, Text("第二个"), {}, kOpen);
  ASSERT_GE(d.replies.size(), 1u);
  EXPECT_EQ(d.replies[0].text, "答案12");
  EXPECT_EQ(d.replies[1].text, "以上回答是否解决了您的问题？请回复“是”或“否”。");
}

TEST(DialoguePolicy, HandoffSummaryNamesLastQuestionAndTriedFaqsWithScores) {
  const DialoguePolicy policy{BotOptions{}};
  Decision d =
      policy.Decide(Greeted(), Text("退货运费谁出"), Match({Faq(11, 0.6), Faq(12, 0.52)}), kOpen);
  d = policy.Decide(d.next, Text("转人工"), {}, kOpen);
  ASSERT_TRUE(d.handoff.has_value());
  EXPECT_EQ(d.handoff->last_question, "退货运费谁出");
  ASSERT_EQ(d.handoff->tried.size(), 2u);
  EXPECT_TRUE(d.handoff->tried[0].answer.empty());
  EXPECT_EQ(
      d.handoff->summary_note,
      "【机器人摘要】\n转人工原因：客户要求转人工\n客户最后的问题：退货运费谁出\n"
      "机器人尝试的FAQ：\n- [faq-11] 问题11（置信度 0.60）\n- [faq-12] 问题12（置信度 0.52）");
}

TEST(DialoguePolicy, QueuePositionIsFilledIntoTheHandoffNotice) {
  const DialoguePolicy policy{BotOptions{}};
  Decision d = policy.Decide(Greeted(), Text("转人工"), {}, kOpen);
  DialoguePolicy::FillQueuePosition(d, 3);
  ASSERT_EQ(d.replies.size(), 1u);
  EXPECT_EQ(
      d.replies[0].text,
      "正在为您转接人工客服，您当前排在第 3 位，请稍候。您可以先描述问题，客服接入后会直接看到。");
}

TEST(DialoguePolicy, OutsideServiceHoursTellsWhenServiceResumesAndStillHandsOff) {
  const DialoguePolicy policy{BotOptions{}};
  // kNow is 08:00 in Shanghai; service opens at 09:00 the same day.
  ServiceWindow closed{false, kNow + hours(1)};
  Decision d = policy.Decide(Greeted(), Text("转人工"), {}, closed);
  ASSERT_TRUE(d.handoff.has_value());
  EXPECT_EQ(d.next.state, ConversationState::kWaitingAgent);
  ASSERT_EQ(d.replies.size(), 1u);
  EXPECT_EQ(d.replies[0].text,
            "现在是非工作时间，人工客服将于 今天 09:00 "
            "上线。您的留言已记录，客服上线后会第一时间回复您。");
  closed.next_opening = kNow + hours(25);
  d = policy.Decide(Greeted(), Text("转人工"), {}, closed);
  EXPECT_NE(d.replies[0].text.find("明天 09:00"), std::string::npos);
  closed.next_opening = kNow + hours(72 + 1);
  d = policy.Decide(Greeted(), Text("转人工"), {}, closed);
  EXPECT_NE(d.replies[0].text.find("1月4日 09:00"), std::string::npos);
  closed.next_opening.reset();
  d = policy.Decide(Greeted(), Text("转人工"), {}, closed);
  EXPECT_EQ(d.replies[0].text, BotOptions{}.handoff_outside_hours_unknown);
}

TEST(DialoguePolicy, DingTalkRendersMarkdownAnswersAndActionCardsWithButtons) {
  const DialoguePolicy policy{BotOptions{}};
  Decision d = policy.Decide(Greeted(), Text("退款", "dingtalk"),
                             Match({Faq(11, 0.6), Faq(12, 0.55)}), kOpen);
  ASSERT_EQ(d.replies.size(), 1u);
  EXPECT_EQ(d.replies[0].format, ReplyFormat::kActionCard);
  ASSERT_EQ(d.replies[0].buttons.size(), 3u);
  EXPECT_EQ(d.replies[0].buttons[1].payload, "pick:2");
  EXPECT_EQ(d.replies[0].buttons[1].text, "2");
  EXPECT_EQ(d.replies[0].buttons[2].payload, "handoff");

  MatchCandidate md{"faq-5", "怎么退款",
                    "## 退款流程\n1. 进入**我的订单**\n2. 点击[申请退款](https://x.cn/r)", 0.9};
  d = policy.Decide(Greeted(), Text("怎么退款", "dingtalk"), Match({md}), kOpen);
  EXPECT_EQ(d.replies[0].format, ReplyFormat::kMarkdown);
  EXPECT_EQ(d.replies[0].text, md.answer);
  EXPECT_EQ(d.replies[1].format, ReplyFormat::kActionCard);
  d = policy.Decide(Greeted(), Text("怎么退款", "wecom_kf"), Match({md}), kOpen);
  EXPECT_EQ(d.replies[0].format, ReplyFormat::kText);
  EXPECT_EQ(d.replies[0].text, "退款流程\n1. 进入我的订单\n2. 点击申请退款（https://x.cn/r）");
  EXPECT_EQ(d.replies[1].format, ReplyFormat::kText);
}

TEST(DialoguePolicy, HugeTextIsTruncatedForTheMatcher) {
  const DialoguePolicy policy{BotOptions{}};
  std::string huge;
  while (huge.size() < 20 * 1024)
    huge += "退款";
  const auto q = policy.MatchQuery(Greeted(), Text(huge));
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->size(), 200u * 3);
  const Decision d = policy.Decide(Greeted(), Text(huge), Match({}), kOpen);
  EXPECT_EQ(d.replies.size(), 1u);
  EXPECT_LE(d.next.last_question.size(), 200u * 3);
}

TEST(DialoguePolicy, OptionsTurnOffFeedbackAndMissHandoff) {
  BotOptions o;
  o.ask_feedback = false;
  o.handoff_after_misses = 0;
  const DialoguePolicy policy{o};
  Decision d = policy.Decide(Greeted(), Text("退款"), Match({Faq(1, 0.9)}), kOpen);
  ASSERT_EQ(d.replies.size(), 1u);
  EXPECT_FALSE(d.next.awaiting_feedback);
  DialogueState s = OneMiss();
  s.consecutive_misses = 5;
  d = policy.Decide(s, Text("火星"), Match({}), kOpen);
  EXPECT_FALSE(d.handoff.has_value());
  EXPECT_EQ(d.next.consecutive_misses, 6);
}

TEST(BotOptions, ValidateReportsEveryBadField) {
  EXPECT_TRUE(BotOptions{}.Validate().ok());
  BotOptions o;
  o.suggest_threshold = 0.9;
  o.max_suggestions = 0;
  o.handoff_queued = "no placeholder";
  const Status s = o.Validate();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("bot.suggest_threshold"), std::string::npos);
  EXPECT_NE(s.message().find("bot.max_suggestions"), std::string::npos);
  EXPECT_NE(s.message().find("bot.handoff_queued"), std::string::npos);
}

TEST(BotOptions, ThresholdsDefaultToTheMatchersReliabilityTable) {
  const BotOptions o;
  const knowledge::MatcherOptions m;
  EXPECT_EQ(o.answer_threshold, m.answer_threshold);
  EXPECT_EQ(o.suggest_threshold, m.suggest_threshold);
}

TEST(BotOptions, InheritThresholdsTakesTheMatchersUnlessConfigured) {
  knowledge::MatcherOptions m;
  m.answer_threshold = 0.9;
  m.suggest_threshold = 0.6;
  BotOptions inherit;
  inherit.InheritThresholds(m);
  EXPECT_EQ(inherit.answer_threshold, 0.9);
  EXPECT_EQ(inherit.suggest_threshold, 0.6);

  BotOptions configured;
  configured.suggest_threshold = 0.3;
  configured.suggest_threshold_configured = true;
  configured.InheritThresholds(m);
  EXPECT_EQ(configured.answer_threshold, 0.9);
  EXPECT_EQ(configured.suggest_threshold, 0.3);
}

TEST(DialoguePolicy, QueueMovesArePushedWhenNearTheFrontOrByAWholeStep) {
  const DialoguePolicy policy{BotOptions{}};  // near 3, step 5
  EXPECT_TRUE(policy.ShouldPushQueueMove(4, 3));
  EXPECT_TRUE(policy.ShouldPushQueueMove(2, 1));
  EXPECT_TRUE(policy.ShouldPushQueueMove(20, 15));
  EXPECT_FALSE(policy.ShouldPushQueueMove(20, 17));  // a small move far from the front
  EXPECT_FALSE(policy.ShouldPushQueueMove(3, 3));    // unchanged
  EXPECT_FALSE(policy.ShouldPushQueueMove(2, 3));    // worse: never pushed
  EXPECT_FALSE(policy.ShouldPushQueueMove(0, 1));    // never told (no hand-off notice yet)
  const Reply r = policy.QueueUpdate(2);
  EXPECT_EQ(r.purpose, ReplyPurpose::kQueueUpdate);
  EXPECT_NE(r.text.find("排在第 2 位"), std::string::npos);
}

}  // namespace
}  // namespace kefu::bot
