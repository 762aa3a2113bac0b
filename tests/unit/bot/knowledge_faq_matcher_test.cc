#include "bot/knowledge_faq_matcher.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "bot/bot_options.h"

namespace kefu::bot {
namespace {

std::vector<knowledge::Faq> LoadDemoFaqs() {
  std::ifstream in(std::string(KEFU_SOURCE_DIR) + "/deploy/demo/faq.jsonl");
  EXPECT_TRUE(in.good());
  std::vector<knowledge::Faq> faqs;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto faq = knowledge::FaqFromJsonText(line);
    EXPECT_TRUE(faq.ok()) << "line " << n << ": " << faq.status().ToString();
    if (!faq.ok()) continue;
    EXPECT_TRUE(knowledge::ValidateFaq(*faq, false).ok()) << faq->id;
    faqs.push_back(std::move(faq).value());
  }
  return faqs;
}

TEST(DemoFaq, FiftyValidEntriesWithTwoToFourSimilarQuestions) {
  const auto faqs = LoadDemoFaqs();
  EXPECT_GE(faqs.size(), 50u);
  std::set<std::string> ids, categories;
  for (const auto& f : faqs) {
    EXPECT_TRUE(ids.insert(f.id).second) << "duplicate id " << f.id;
    EXPECT_GE(f.similar_questions.size(), 2u) << f.id;
    EXPECT_LE(f.similar_questions.size(), 4u) << f.id;
    EXPECT_FALSE(f.category.empty()) << f.id;
    EXPECT_TRUE(f.enabled);
    categories.insert(f.category);
  }
  for (const char* c : {"退款", "物流", "发票", "订单", "会员", "优惠券", "售后", "账号"}) {
    EXPECT_TRUE(categories.count(c)) << c;
  }
}

TEST(KnowledgeFaqMatcher, DemoQuestionsAreAnsweredWithTheirOwnFaq) {
  const auto faqs = LoadDemoFaqs();
  knowledge::Matcher matcher;
  KnowledgeFaqMatcher adapter(matcher);
  adapter.Reload(faqs);
  const double answer = BotOptions{}.answer_threshold;
  int answered = 0, top1 = 0, total = 0;
  for (const auto& f : faqs) {
    std::vector<std::string> questions = f.similar_questions;
    questions.push_back(f.question);
    for (const auto& q : questions) {
      auto r = adapter.Match(q, "wecom", 3);
      ASSERT_TRUE(r.ok());
      ++total;
      if (r->candidates.empty() || r->candidates[0].faq_id != f.id) continue;
      ++top1;
      EXPECT_EQ(r->candidates[0].answer, f.answer);
      if (r->candidates[0].confidence >= answer) ++answered;
    }
  }
  // Every indexed question should find its own FAQ first; most with answer confidence.
  EXPECT_EQ(top1, total);
  EXPECT_GE(answered * 10, total * 9) << answered << " of " << total;
}

TEST(KnowledgeFaqMatcher, RemovedFaqsDisappearFromCandidates) {
  knowledge::Matcher matcher;
  KnowledgeFaqMatcher adapter(matcher);
  knowledge::Faq a;
  a.id = "a";
  a.question = "怎么申请退款";
  a.answer = "在订单页申请";
  a.answers_by_channel["dingtalk"] = "**在订单页申请**";
  adapter.Reload({a});
  auto r = adapter.Match("怎么申请退款", "dingtalk", 3);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->candidates.size(), 1u);
  EXPECT_EQ(r->candidates[0].answer, "**在订单页申请**");
  ASSERT_TRUE(adapter.Remove("a").ok());
  EXPECT_TRUE(adapter.Match("怎么申请退款", "dingtalk", 3)->candidates.empty());
}

}  // namespace
}  // namespace kefu::bot
