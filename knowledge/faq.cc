#include "knowledge/faq.h"

#include <ctime>
#include <string_view>

namespace kefu::knowledge {
namespace {

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

Result<std::string> StringField(const nlohmann::json& j, const char* name, bool required) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) {
    if (required) return InvalidArgument(std::string(name) + ": required");
    return std::string();
  }
  if (!it->is_string()) return InvalidArgument(std::string(name) + ": must be a string");
  return it->get<std::string>();
}

Result<std::vector<std::string>> StringArray(const nlohmann::json& j, const char* name) {
  std::vector<std::string> out;
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) return InvalidArgument(std::string(name) + ": must be an array of strings");
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& e = (*it)[i];
    if (!e.is_string()) {
      return InvalidArgument(std::string(name) + "[" + std::to_string(i) + "]: must be a string");
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace

const std::string& Faq::AnswerFor(const std::string& channel) const {
  auto it = answers_by_channel.find(channel);
  return it == answers_by_channel.end() || it->second.empty() ? answer : it->second;
}

Result<Faq> FaqFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return InvalidArgument("faq: must be a JSON object");
  Faq f;
  if (auto it = j.find("id"); it != j.end() && !it->is_null()) {
    if (it->is_string()) {
      f.id = it->get<std::string>();
    } else if (it->is_number_integer()) {
      f.id = std::to_string(it->get<int64_t>());
    } else {
      return InvalidArgument("id: must be a string");
    }
  }
  KEFU_ASSIGN_OR_RETURN(f.question, StringField(j, "question", true));
  KEFU_ASSIGN_OR_RETURN(f.answer, StringField(j, "answer", true));
  KEFU_ASSIGN_OR_RETURN(f.similar_questions, StringArray(j, "similar_questions"));
  KEFU_ASSIGN_OR_RETURN(f.category, StringField(j, "category", false));
  KEFU_ASSIGN_OR_RETURN(f.tags, StringArray(j, "tags"));
  if (auto it = j.find("enabled"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) return InvalidArgument("enabled: must be true or false");
    f.enabled = it->get<bool>();
  }
  if (auto it = j.find("answers_by_channel"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidArgument("answers_by_channel: must be an object");
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) return InvalidArgument("answers_by_channel." + k + ": must be a string");
      f.answers_by_channel[k] = v.get<std::string>();
    }
  }
  KEFU_RETURN_IF_ERROR(ValidateFaq(f));
  return f;
}

Result<Faq> FaqFromJsonText(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("malformed JSON");
  return FaqFromJson(j);
}

nlohmann::json FaqToJson(const Faq& f) {
  nlohmann::json j = {
      {"id", f.id},          {"question", f.question}, {"similar_questions", f.similar_questions},
      {"answer", f.answer},  {"category", f.category}, {"tags", f.tags},
      {"enabled", f.enabled}};
  if (!f.answers_by_channel.empty()) j["answers_by_channel"] = f.answers_by_channel;
  if (f.created_at_ms != 0) j["created_at"] = FormatTimestamp(f.created_at_ms);
  if (f.updated_at_ms != 0) j["updated_at"] = FormatTimestamp(f.updated_at_ms);
  return j;
}

Status ValidateFaq(const Faq& f, bool allow_empty_answer) {
  if (f.id.size() > kMaxFaqIdBytes) return InvalidArgument("id: longer than 128 bytes");
  for (char c : f.id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return InvalidArgument("id: only letters, digits and -_.: are allowed");
  }
  if (IsBlank(f.question)) return InvalidArgument("question: must not be empty");
  if (f.question.size() > kMaxQuestionBytes) {
    return InvalidArgument("question: longer than 1024 bytes");
  }
  if (!allow_empty_answer && IsBlank(f.answer)) return InvalidArgument("answer: must not be empty");
  if (f.answer.size() > kMaxAnswerBytes) return InvalidArgument("answer: longer than 64 KiB");
  if (f.similar_questions.size() > kMaxSimilarQuestions) {
    return InvalidArgument("similar_questions: more than 200 entries");
  }
  for (size_t i = 0; i < f.similar_questions.size(); ++i) {
    const std::string& q = f.similar_questions[i];
    if (IsBlank(q) || q.size() > kMaxQuestionBytes) {
      return InvalidArgument("similar_questions[" + std::to_string(i) +
                             "]: must be non-empty and at most 1024 bytes");
    }
  }
  if (f.tags.size() > kMaxTags) return InvalidArgument("tags: more than 50 entries");
  for (const auto& [channel, text] : f.answers_by_channel) {
    if (text.size() > kMaxAnswerBytes) {
      return InvalidArgument("answers_by_channel." + channel + ": longer than 64 KiB");
    }
  }
  return Status::Ok();
}

std::string FormatTimestamp(int64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace kefu::knowledge
