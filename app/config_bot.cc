// [bot] config: thresholds, keywords and texts of the dialogue policy (bot::BotOptions).
#include <string>

#include "app/bot_api.h"

namespace kefu::app {

void ReadBotOptions(const ConfigSection& s, bot::BotOptions& o) {
  // Absent thresholds follow the matcher's ([knowledge], knowledge::MatcherOptions) at start.
  o.answer_threshold_configured = s.Has("answer_threshold");
  o.suggest_threshold_configured = s.Has("suggest_threshold");
  s.Double("answer_threshold", o.answer_threshold, 0.0, 1.0);
  s.Double("suggest_threshold", o.suggest_threshold, 0.0, 1.0);
  s.Int("max_suggestions", o.max_suggestions, 1, 9);
  s.Int("handoff_after_misses", o.handoff_after_misses, 0, 100);
  s.Bool("ask_feedback", o.ask_feedback);
  s.Bool("handoff_on_negative_feedback", o.handoff_on_negative_feedback);
  s.Int("greeting_interval_minutes", o.greeting_interval_minutes, 0, 7 * 24 * 60);
  s.Int("max_query_code_points", o.max_query_code_points, 1, 10'000);
  s.Int("queue_update_near", o.queue_update_near, 0, 1000);
  s.Int("queue_update_step", o.queue_update_step, 0, 1000);
  s.Int("display_utc_offset_minutes", o.display_utc_offset_minutes, -14 * 60, 14 * 60);
  s.StringArray("handoff_keywords", o.handoff_keywords);
  s.StringArray("handoff_phrases", o.handoff_phrases);
  s.Int("handoff_phrase_max_code_points", o.handoff_phrase_max_code_points, 0, 1000);
  s.StringArray("feedback_yes", o.feedback_yes);
  s.StringArray("feedback_no", o.feedback_no);

  const ConfigSection texts = s.Table("texts");
  texts.NonEmptyString("bot_name", o.bot_name);
  texts.NonEmptyString("greeting", o.greeting);
  texts.NonEmptyString("suggestions_header", o.suggestions_header);
  texts.String("suggestions_footer", o.suggestions_footer);
  texts.NonEmptyString("not_understood", o.not_understood);
  texts.NonEmptyString("feedback_question", o.feedback_question);
  texts.NonEmptyString("feedback_thanks", o.feedback_thanks);
  texts.NonEmptyString("feedback_sorry", o.feedback_sorry);
  texts.NonEmptyString("handoff_queued", o.handoff_queued);
  texts.NonEmptyString("handoff_outside_hours", o.handoff_outside_hours);
  texts.NonEmptyString("handoff_outside_hours_unknown", o.handoff_outside_hours_unknown);
  texts.NonEmptyString("agent_joined", o.agent_joined);
  texts.NonEmptyString("queue_update", o.queue_update);
  texts.NonEmptyString("text_only", o.text_only);
  texts.NonEmptyString("empty_prompt", o.empty_prompt);
  texts.NonEmptyString("button_handoff", o.button_handoff);
  texts.NonEmptyString("button_yes", o.button_yes);
  texts.NonEmptyString("button_no", o.button_no);

  // [bot.channels.<kind>]: per-channel templates.
  const ConfigSection channels = s.Table("channels");
  for (const char* kind : {"wecom", "wecom_kf", "dingtalk"}) {
    const ConfigSection c = channels.Table(kind);
    if (!c.present()) continue;
    bot::ChannelTemplate& t = o.channel_templates[kind];
    c.Enum("answer_format", t.answer_format,
           {{"text", bot::ReplyFormat::kText}, {"markdown", bot::ReplyFormat::kMarkdown}});
    c.Bool("buttons", t.buttons);
    c.String("greeting", t.greeting);
    c.String("not_understood", t.not_understood);
  }

  if (o.suggest_threshold > o.answer_threshold) {
    s.Error("suggest_threshold", "must be <= bot.answer_threshold");
  }
  if (o.handoff_queued.find("{position}") == std::string::npos) {
    texts.Error("handoff_queued", "must contain {position}");
  }
  if (o.queue_update.find("{position}") == std::string::npos) {
    texts.Error("queue_update", "must contain {position}");
  }
  if (o.handoff_outside_hours.find("{resume_time}") == std::string::npos) {
    texts.Error("handoff_outside_hours", "must contain {resume_time}");
  }
}

}  // namespace kefu::app
