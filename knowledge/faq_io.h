// FAQ files: JSONL (one FAQ JSON object per line, the shape of faq.h) and CSV with the header
//   id,question,answer,similar_questions,category,tags,enabled
// where similar_questions and tags are '|'-separated and enabled is true/false/1/0 (empty: true).
// CSV fields follow RFC 4180 (double quotes, "" escapes, quoted newlines).
//
// Parsing never stops at a bad record: each is reported with its 1-based line number and the
// reason, and the good ones are returned.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "knowledge/faq.h"

namespace kefu::knowledge {

struct FaqLineError {
  size_t line = 0;
  std::string reason;
};

struct ParsedFaqs {
  std::vector<Faq> faqs;
  std::vector<size_t> lines;  // line of each entry of `faqs`
  std::vector<FaqLineError> errors;
};

ParsedFaqs ParseFaqJsonl(std::string_view text);
ParsedFaqs ParseFaqCsv(std::string_view text);

// One JSON line per FAQ (no trailing timestamps), '\n'-terminated.
std::string FormatFaqJsonl(const std::vector<Faq>& faqs);
// Header + one record per FAQ.
std::string FormatFaqCsv(const std::vector<Faq>& faqs);

}  // namespace kefu::knowledge
