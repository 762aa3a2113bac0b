#include "knowledge/matcher.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "knowledge/memory_faq_index.h"
#include "knowledge/text_normalizer.h"

namespace kefu::knowledge {
namespace {

Faq MakeFaq(std::string id, std::string q, std::vector<std::string> similar = {}) {
  Faq f;
  f.id = std::move(id);
  f.question = std::move(q);
  f.answer = "a";
  f.similar_questions = std::move(similar);
  return f;
}

std::vector<Faq> ShopFaqs() {
  return {MakeFaq("refund", "怎么申请退款", {"退钱要多久"}),
          MakeFaq("invoice", "发票怎么开"),
          MakeFaq("address", "怎么修改收货地址"),
          MakeFaq("vip", "会员怎么续费"),
          MakeFaq("human", "怎么联系人工客服"),
          MakeFaq("ship", "什么时候发货")};
}

TEST(Matcher, FindsParaphraseAndReportsTheMatchedQuestion) {
  Matcher m;
  m.Rebuild(ShopFaqs());
  auto r = m.Match("退款要多长时间", 3);
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0].faq_id, "refund");
  EXPECT_EQ(r[0].matched_question, "退钱要多久");
  EXPECT_GT(r[0].confidence, 0.0);
  EXPECT_LE(r[0].confidence, 1.0);
}

TEST(Matcher, ExactQuestionIsAnsweredWithHighConfidence) {
  Matcher m;
  m.Rebuild(ShopFaqs());
  auto r = m.Match("发票怎么开？", 3);
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0].faq_id, "invoice");
  EXPECT_GE(r[0].confidence, m.options().answer_threshold);
}

TEST(Matcher, OffTopicQuestionSharingOnlyFillerStaysBelowSuggest) {
  std::vector<Faq> faqs = ShopFaqs();
  faqs.push_back(MakeFaq("refund-how", "我想退款怎么操作"));
  Matcher guarded;
  guarded.Rebuild(faqs);
  auto r = guarded.Match("我想学钢琴", 3);
  ASSERT_FALSE(r.empty());
  EXPECT_LT(r[0].confidence, guarded.options().suggest_threshold) << r[0].faq_id;

  MatcherOptions off;
  off.evidence_coverage = 0;
  Matcher unguarded(off);
  unguarded.Rebuild(faqs);
  auto u = unguarded.Match("我想学钢琴", 3);
  ASSERT_FALSE(u.empty());
  EXPECT_GT(u[0].confidence, r[0].confidence);
}

TEST(Matcher, ChangesAreVisibleAtOnce) {
  Matcher m;
  m.Rebuild(ShopFaqs());
  ASSERT_TRUE(m.Upsert(MakeFaq("points", "积分怎么兑换礼品")).ok());
  auto r = m.Match("积分兑换", 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].faq_id, "points");
  Faq off = MakeFaq("points", "积分怎么兑换礼品");
  off.enabled = false;
  ASSERT_TRUE(m.Upsert(off).ok());
  r = m.Match("积分兑换礼品", 5);
  for (const auto& x : r)
    EXPECT_NE(x.faq_id, "points");
  ASSERT_TRUE(m.Remove("refund").ok());
  for (const auto& x : m.Match("怎么申请退款", 5))
    EXPECT_NE(x.faq_id, "refund");
}

TEST(Matcher, BadQueriesHaveDefinedResults) {
  Matcher m;
  m.Rebuild(ShopFaqs());
  EXPECT_TRUE(m.Match("", 5).empty());
  EXPECT_TRUE(m.Match("   \t\n", 5).empty());
  EXPECT_TRUE(m.Match("😀😀👍", 5).empty());
  EXPECT_TRUE(m.Match("？？！！，。", 5).empty());
  std::string big;
  while (big.size() < 10 * 1024)
    big += "发票怎么开";
  auto r = m.Match(big, 5);  // truncated to max_query_bytes, still answers
  ASSERT_FALSE(r.empty());
  EXPECT_EQ(r[0].faq_id, "invoice");
  EXPECT_TRUE(m.Match("xyz 123", 5).empty());  // unknown Latin/digits: no candidate
  auto t = m.Match("會員怎麼續費", 1);         // traditional
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].faq_id, "vip");
}

TEST(Matcher, LatinAndDigitTokensMatch) {
  Matcher m;
  m.Rebuild({MakeFaq("vip", "VIP会员怎么开"), MakeFaq("ios", "iPhone 12 怎么下载app")});
  auto r = m.Match("ｉｐｈｏｎｅ下载", 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].faq_id, "ios");
}

TEST(Matcher, AdminSynonymsAndDictionaryApply) {
  Matcher m;
  LexiconEntries admin;
  admin.synonyms = {{"人工", "客服"}};
  m.Rebuild({MakeFaq("human", "怎么联系客服"), MakeFaq("ship", "怎么联系快递")}, admin);
  auto r = m.Match("转人工", 1);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].faq_id, "human");
}

TEST(MemoryFaqIndex, PrunedTopKEqualsExhaustiveBm25) {
  auto analyzer = std::make_shared<const Analyzer>(AnalyzerOptions{}, std::make_shared<Lexicon>());
  MemoryFaqIndex index(analyzer);
  std::mt19937 rng(7);
  const std::u32string chars =
      U"花呗借额度还款怎么为什么不能开通关闭逾期利息分期提前退款账单银行卡";
  auto random_text = [&](size_t len) {
    std::u32string s;
    for (size_t i = 0; i < len; ++i)
      s.push_back(chars[rng() % chars.size()]);
    std::string out;
    for (char32_t c : s)
      AppendUtf8(c, out);
    return out;
  };
  for (int i = 0; i < 2000; ++i) {
    Faq f;
    f.id = "f";
    f.id += std::to_string(i);
    f.question = random_text(6 + rng() % 10);
    f.answer = "a";
    ASSERT_TRUE(index.Upsert(f).ok());
  }
  for (int i = 0; i < 200; i += 3) {
    std::string id = "f";
    id += std::to_string(i);
    ASSERT_TRUE(index.Remove(id).ok());
  }
  for (int q = 0; q < 100; ++q) {
    const auto terms = index.PrepareQuery(analyzer->Analyze(random_text(4 + rng() % 12)));
    for (size_t k : {1, 20, 60}) {
      const auto pruned = index.TopK(terms, k);
      const auto full = index.TopKExhaustive(terms, k);
      ASSERT_EQ(pruned.size(), full.size());
      for (size_t i = 0; i < pruned.size(); ++i)
        EXPECT_NEAR(pruned[i].bm25, full[i].bm25, 1e-9);
    }
  }
}

TEST(MemoryFaqIndex, TopKStaysExactAcrossEditsCompactionAndImpactRefresh) {
  auto analyzer = std::make_shared<const Analyzer>(AnalyzerOptions{}, std::make_shared<Lexicon>());
  MemoryFaqIndex index(analyzer);
  std::mt19937 rng(11);
  const std::u32string chars = U"花呗借额度还款怎么为什么不能开通关闭逾期利息分期提前退款账单";
  auto random_text = [&](size_t len) {
    std::string out;
    for (size_t i = 0; i < len; ++i)
      AppendUtf8(chars[rng() % chars.size()], out);
    return out;
  };
  auto upsert = [&](int i, size_t len) {
    Faq f;
    f.id = "f" + std::to_string(i);
    f.question = random_text(len);
    f.answer = "a";
    ASSERT_TRUE(index.Upsert(f).ok());
  };
  for (int i = 0; i < 600; ++i)
    upsert(i, 4 + rng() % 6);
  index.RefreshIdf();
  const double short_avgdl = index.impact_avgdl();
  // Remove most documents (compaction) and add much longer ones: avgdl drifts, impacts refresh.
  for (int i = 0; i < 500; ++i)
    ASSERT_TRUE(index.Remove("f" + std::to_string(i)).ok());
  for (int i = 600; i < 900; ++i)
    upsert(i, 20 + rng() % 10);
  index.RefreshIdf();
  EXPECT_GT(index.impact_avgdl(), short_avgdl * 1.5);
  for (int q = 0; q < 60; ++q) {
    const auto terms = index.PrepareQuery(analyzer->Analyze(random_text(3 + rng() % 12)));
    const auto pruned = index.TopK(terms, 10);
    const auto full = index.TopKExhaustive(terms, 10);
    ASSERT_EQ(pruned.size(), full.size());
    for (size_t i = 0; i < pruned.size(); ++i) {
      EXPECT_NEAR(pruned[i].bm25, full[i].bm25, 1e-9);
      EXPECT_TRUE(index.doc(pruned[i].doc).live);
    }
  }
}

}  // namespace
}  // namespace kefu::knowledge
