// BotOptions: every text, threshold and keyword of the dialogue policy, with Chinese defaults.
// Parsed from the [bot] config section by app/config_bot.cc; plain values, copyable.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "bot/dialogue.h"
#include "core/status.h"
#include "knowledge/matcher.h"

namespace kefu::bot {

// How one channel kind renders the bot's replies.
struct ChannelTemplate {
  // Format of FAQ answers: kText strips Markdown emphasis/headings; kMarkdown keeps it.
  ReplyFormat answer_format = ReplyFormat::kText;
  // Whether the channel shows action-card buttons (DingTalk); otherwise buttons are omitted
  // and the text tells the customer what to reply.
  bool buttons = false;
  // Optional overrides of the greeting and not-understood texts for this channel ("" = default).
  std::string greeting;
  std::string not_understood;
};

struct BotOptions {
  // Confidence at or above which the best candidate is answered directly. One source of truth:
  // knowledge's reliability table (knowledge::MatcherOptions, docs/knowledge.md); kefud replaces
  // it by the live matcher's configured value ([knowledge]) unless [bot] sets it
  // (answer_threshold_configured).
  double answer_threshold = knowledge::MatcherOptions{}.answer_threshold;
  // Confidence at or above which (and below answer) candidates are offered as suggestions; same
  // source and override rule.
  double suggest_threshold = knowledge::MatcherOptions{}.suggest_threshold;
  // Set by the [bot] config reader when the key is present: the value is then kept as given.
  bool answer_threshold_configured = false;
  bool suggest_threshold_configured = false;
  // At most this many numbered suggestions (1..9).
  int max_suggestions = 3;
  // Hand off after this many consecutive not-understood turns (0 = never).
  int handoff_after_misses = 2;
  // Ask "以上回答是否解决了您的问题？" after each answer.
  bool ask_feedback = true;
  // Hand off when the customer says an answer did not help.
  bool handoff_on_negative_feedback = true;
  // Greet on enter events (enter_agent, enter_session, subscribe) at most this often.
  int greeting_interval_minutes = 12 * 60;
  // Only this many code points of a message are sent to the matcher (a 20 KB text is cut).
  int max_query_code_points = 200;
  // Queue position updates while waiting for an agent (pushed when ticketing's queue moves):
  // told when the position improves to at most `queue_update_near`, or by at least
  // `queue_update_step` places since the customer was last told (0 = that rule off). A customer
  // message while waiting is answered with the position whenever it changed since last told.
  int queue_update_near = 3;
  int queue_update_step = 5;
  // Minutes east of UTC used to show "service resumes at" times (China: +480).
  int display_utc_offset_minutes = 8 * 60;

  // The whole normalised message equal to one of these hands off ("人工", "客服").
  std::vector<std::string> handoff_keywords = {"转人工", "人工",   "人工客服",
                                               "客服",   "找客服", "投诉"};
  // A message of at most `handoff_phrase_max_code_points` containing one of these hands off
  // ("我要转人工", "帮我找客服谢谢"), unless the FAQ answers it with answer confidence
  // ("人工客服什么时候上班").
  std::vector<std::string> handoff_phrases = {"转人工", "人工客服", "找客服",
                                              "找人工", "真人客服", "投诉"};
  int handoff_phrase_max_code_points = 15;
  // Replies to the feedback question.
  std::vector<std::string> feedback_yes = {"是",     "是的", "解决了", "已解决", "有用",
                                           "有帮助", "好的", "谢谢",   "明白了", "可以了"};
  std::vector<std::string> feedback_no = {"否",     "不是", "没有", "没解决", "没有解决",
                                          "未解决", "不行", "没用", "没有用", "没帮助"};

  std::string bot_name = "小服";
  // {bot_name} is replaced.
  std::string greeting =
      "您好，我是智能客服{bot_name}，很高兴为您服务！请直接描述您的问题，例如“怎么申请退款”。"
      "如需人工服务，请回复“转人工”。";
  std::string suggestions_header = "您是否想问：";
  std::string suggestions_footer = "请回复序号（如“1”）选择，或换个说法描述您的问题。";
  std::string not_understood =
      "抱歉，我没有理解您的问题。您可以换个说法再问一次，或回复“转人工”联系人工客服。";
  std::string feedback_question = "以上回答是否解决了您的问题？请回复“是”或“否”。";
  std::string feedback_thanks = "感谢您的反馈！如果还有其他问题，随时问我。";
  // "否" when handoff_on_negative_feedback is off.
  std::string feedback_sorry =
      "抱歉没能帮到您。您可以换个说法再问一次，或回复“转人工”联系人工客服。";
  // {position} is replaced with the 1-based queue position.
  std::string handoff_queued =
      "正在为您转接人工客服，您当前排在第 {position} "
      "位，请稍候。您可以先描述问题，客服接入后会直接看到。";
  // {resume_time} is replaced ("明天 09:00", "11月25日 09:00").
  std::string handoff_outside_hours =
      "现在是非工作时间，人工客服将于 {resume_time} "
      "上线。您的留言已记录，客服上线后会第一时间回复您。";
  // Outside hours with no known opening time.
  std::string handoff_outside_hours_unknown =
      "现在是非工作时间，您的留言已记录，人工客服上线后会第一时间回复您。";
  // Queue position update ({position} is replaced).
  std::string queue_update = "您当前排在第 {position} 位，请耐心等待，客服接入后会第一时间回复您。";
  // Told once when an agent takes the conversation ({agent} is replaced).
  std::string agent_joined = "您好，人工客服 {agent} 为您服务，请问有什么可以帮您？";
  std::string text_only =
      "抱歉，我目前只能识别文字消息。请用文字描述您的问题，或回复“转人工”联系人工客服。";
  std::string empty_prompt = "请问有什么可以帮您？请用文字描述您的问题。";
  // Button titles (channels with buttons).
  std::string button_handoff = "转人工";
  std::string button_yes = "已解决";
  std::string button_no = "未解决";

  // Templates per channel kind ("wecom", "wecom_kf", "dingtalk"); unknown kinds use
  // `default_template`.
  std::map<std::string, ChannelTemplate> channel_templates = {
      {"wecom", {ReplyFormat::kMarkdown, false, "", ""}},
      {"wecom_kf", {ReplyFormat::kText, false, "", ""}},
      {"dingtalk", {ReplyFormat::kMarkdown, true, "", ""}},
  };
  ChannelTemplate default_template;

  // Takes the matcher's thresholds for the ones [bot] did not set (see answer_threshold).
  void InheritThresholds(const knowledge::MatcherOptions& matcher);
  // The template for `channel`.
  const ChannelTemplate& TemplateFor(const std::string& channel) const;
  // Checks ranges and cross-field rules; InvalidArgument naming the first bad field
  // ("bot.suggest_threshold: must be <= bot.answer_threshold").
  Status Validate() const;
};

}  // namespace kefu::bot
