#include "bot/bot_options.h"

#include <string>

namespace kefu::bot {

void BotOptions::InheritThresholds(const knowledge::MatcherOptions& matcher) {
  if (!answer_threshold_configured) answer_threshold = matcher.answer_threshold;
  if (!suggest_threshold_configured) suggest_threshold = matcher.suggest_threshold;
}

const ChannelTemplate& BotOptions::TemplateFor(const std::string& channel) const {
  const auto it = channel_templates.find(channel);
  return it == channel_templates.end() ? default_template : it->second;
}

Status BotOptions::Validate() const {
  std::string errors;
  auto fail = [&errors](const std::string& e) {
    if (!errors.empty()) errors += "; ";
    errors += e;
  };
  if (answer_threshold < 0 || answer_threshold > 1) {
    fail("bot.answer_threshold: must be within [0, 1]");
  }
  if (suggest_threshold < 0 || suggest_threshold > 1) {
    fail("bot.suggest_threshold: must be within [0, 1]");
  }
  if (suggest_threshold > answer_threshold) {
    fail("bot.suggest_threshold: must be <= bot.answer_threshold");
  }
  if (max_suggestions < 1 || max_suggestions > 9) {
    fail("bot.max_suggestions: must be within [1, 9]");
  }
  if (handoff_after_misses < 0) fail("bot.handoff_after_misses: must be >= 0");
  if (greeting_interval_minutes < 0) fail("bot.greeting_interval_minutes: must be >= 0");
  if (max_query_code_points < 1) fail("bot.max_query_code_points: must be >= 1");
  if (display_utc_offset_minutes < -14 * 60 || display_utc_offset_minutes > 14 * 60) {
    fail("bot.display_utc_offset_minutes: must be within [-840, 840]");
  }
  if (handoff_phrase_max_code_points < 0) {
    fail("bot.handoff_phrase_max_code_points: must be >= 0");
  }
  if (handoff_queued.find("{position}") == std::string::npos) {
    fail("bot.handoff_queued: must contain {position}");
  }
  if (queue_update_near < 0) fail("bot.queue_update_near: must be >= 0");
  if (queue_update_step < 0) fail("bot.queue_update_step: must be >= 0");
  if (queue_update.find("{position}") == std::string::npos) {
    fail("bot.queue_update: must contain {position}");
  }
  if (handoff_outside_hours.find("{resume_time}") == std::string::npos) {
    fail("bot.handoff_outside_hours: must contain {resume_time}");
  }
  const std::pair<const char*, const std::string*> required[] = {
      {"bot.greeting", &greeting},
      {"bot.not_understood", &not_understood},
      {"bot.feedback_question", &feedback_question},
      {"bot.text_only", &text_only},
      {"bot.empty_prompt", &empty_prompt},
      {"bot.suggestions_header", &suggestions_header},
  };
  for (const auto& [name, value] : required) {
    if (value->empty()) fail(std::string(name) + ": must not be empty");
  }
  if (errors.empty()) return Status::Ok();
  return InvalidArgument(errors);
}

}  // namespace kefu::bot
