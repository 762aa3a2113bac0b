// Shared by the bot benchmarks: the FAQ bases they run on and a matcher that costs nothing.
#pragma once

#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bot/engine_ports.h"
#include "knowledge/faq.h"

namespace kefu::bot::bench {

// The demo shop base (deploy/demo/faq.jsonl) topped up to `total` FAQs with seeded synthetic
// product questions ("羽绒服3代怎么清洗"), each with two similar questions.
inline std::vector<knowledge::Faq> LoadFaqs(size_t total) {
  std::ifstream in(std::string(KEFU_SOURCE_DIR) + "/deploy/demo/faq.jsonl");
  std::vector<knowledge::Faq> faqs;
  std::string line;
  while (std::getline(in, line)) {
    auto f = knowledge::FaqFromJsonText(line);
    if (f.ok()) faqs.push_back(std::move(f).value());
  }
  static const char* kProducts[] = {"羽绒服", "运动鞋",   "蓝牙耳机", "电饭煲",     "行李箱",
                                    "保温杯", "机械键盘", "空气炸锅", "瑜伽垫",     "儿童书包",
                                    "咖啡机", "吸尘器",   "台灯",     "床上四件套", "登山包",
                                    "面霜",   "手机壳",   "投影仪",   "电动牙刷",   "筋膜枪"};
  static const char* kAspects[] = {
      "尺码怎么选",   "怎么清洗",       "保修多久",   "有几种颜色",     "适合几岁用",
      "能放洗碗机吗", "充一次电用多久", "材质是什么", "支持以旧换新吗", "有没有赠品",
      "重量是多少",   "噪音大不大",     "怎么安装",   "会不会掉色",     "能带上飞机吗",
      "有没有异味",   "适合送礼吗",     "保质期多久", "功率是多少",     "产地是哪里"};
  size_t n = 0;
  while (faqs.size() < total) {
    const size_t p = n % std::size(kProducts);
    const size_t a = (n / std::size(kProducts)) % std::size(kAspects);
    const size_t series = n / (std::size(kProducts) * std::size(kAspects));
    knowledge::Faq f;
    f.id = "syn-" + std::to_string(n);
    const std::string model = std::string(kProducts[p]) + std::to_string(series + 1) + "代";
    f.question = model + kAspects[a];
    f.similar_questions = {"请问" + model + kAspects[a], model + "的" + kAspects[a]};
    f.answer = "关于" + model + "：请以商品详情页的说明为准。";
    f.category = "商品";
    faqs.push_back(std::move(f));
    ++n;
  }
  return faqs;
}

// Answers only the exact text of a question or similar question (confidence 0.95): measures the
// engine without the matcher's cost.
class ExactMatcher final : public FaqMatcher {
 public:
  explicit ExactMatcher(const std::vector<knowledge::Faq>& faqs) {
    for (const auto& f : faqs) {
      for (const auto& q : f.similar_questions)
        by_question_[q] = {f.id, f.question, f.answer, 0.95};
      by_question_[f.question] = {f.id, f.question, f.answer, 0.95};
    }
  }
  Result<MatchResult> Match(std::string_view query, const std::string&, int) const override {
    const auto it = by_question_.find(std::string(query));
    if (it == by_question_.end()) return MatchResult{};
    return MatchResult{{it->second}};
  }

 private:
  std::unordered_map<std::string, MatchCandidate> by_question_;
};

}  // namespace kefu::bot::bench
