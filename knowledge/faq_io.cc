#include "knowledge/faq_io.h"

#include <nlohmann/json.hpp>

namespace kefu::knowledge {
namespace {

constexpr std::string_view kCsvHeader =
    "id,question,answer,similar_questions,category,tags,enabled";

std::vector<std::string> SplitBar(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t bar = s.find('|', start);
    const std::string part =
        s.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
    if (part.find_first_not_of(' ') != std::string::npos) out.push_back(part);
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  return out;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string JoinBar(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += '|';
    out += v[i];
  }
  return out;
}

}  // namespace

ParsedFaqs ParseFaqJsonl(std::string_view text) {
  ParsedFaqs out;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (line_no == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    Result<Faq> f = FaqFromJsonText(line);
    if (!f.ok()) {
      out.errors.push_back({line_no, f.status().message()});
      continue;
    }
    out.faqs.push_back(std::move(f).value());
    out.lines.push_back(line_no);
  }
  return out;
}

ParsedFaqs ParseFaqCsv(std::string_view text) {
  ParsedFaqs out;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  // Records of fields, each with the line it starts on.
  std::vector<std::pair<size_t, std::vector<std::string>>> records;
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  bool any = false;
  size_t line = 1, record_line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && field.empty()) {
      quoted = true;
      any = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        fields.push_back(std::move(field));
        records.emplace_back(record_line, std::move(fields));
      }
      fields.clear();
      field.clear();
      any = false;
      ++line;
      record_line = line;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) {
    out.errors.push_back({record_line, "unterminated quoted field"});
  } else if (any || !field.empty()) {
    fields.push_back(std::move(field));
    records.emplace_back(record_line, std::move(fields));
  }
  if (records.empty()) return out;
  size_t first = 0;
  if (!records[0].second.empty() && records[0].second[0] == "id") first = 1;  // header
  for (size_t r = first; r < records.size(); ++r) {
    const auto& [ln, f] = records[r];
    if (f.size() < 3 || f.size() > 7) {
      out.errors.push_back({ln, "expected 3 to 7 fields (" + std::string(kCsvHeader) + "), got " +
                                    std::to_string(f.size())});
      continue;
    }
    Faq faq;
    faq.id = f[0];
    faq.question = f[1];
    faq.answer = f[2];
    if (f.size() > 3) faq.similar_questions = SplitBar(f[3]);
    if (f.size() > 4) faq.category = f[4];
    if (f.size() > 5) faq.tags = SplitBar(f[5]);
    if (f.size() > 6) {
      const std::string& e = f[6];
      if (e == "false" || e == "0") {
        faq.enabled = false;
      } else if (!e.empty() && e != "true" && e != "1") {
        out.errors.push_back({ln, "enabled: must be true, false, 1 or 0"});
        continue;
      }
    }
    if (Status s = ValidateFaq(faq); !s.ok()) {
      out.errors.push_back({ln, s.message()});
      continue;
    }
    out.faqs.push_back(std::move(faq));
    out.lines.push_back(ln);
  }
  return out;
}

std::string FormatFaqJsonl(const std::vector<Faq>& faqs) {
  std::string out;
  for (const Faq& f : faqs) {
    nlohmann::json j = FaqToJson(f);
    j.erase("created_at");
    j.erase("updated_at");
    out += j.dump();
    out += '\n';
  }
  return out;
}

std::string FormatFaqCsv(const std::vector<Faq>& faqs) {
  std::string out(kCsvHeader);
  out += '\n';
  for (const Faq& f : faqs) {
    out += CsvField(f.id) + ',' + CsvField(f.question) + ',' + CsvField(f.answer) + ',' +
           CsvField(JoinBar(f.similar_questions)) + ',' + CsvField(f.category) + ',' +
           CsvField(JoinBar(f.tags)) + ',' + (f.enabled ? "true" : "false") + '\n';
  }
  return out;
}

}  // namespace kefu::knowledge
