#include "knowledge/lexicon.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "knowledge/text_normalizer.h"

namespace kefu::knowledge {
namespace {

bool Learned(const std::vector<LearnedWord>& words, const std::string& w) {
  const std::u32string u = FromUtf8(w);
  return std::any_of(words.begin(), words.end(), [&](const LearnedWord& x) { return x.word == u; });
}

TEST(LearnVocabulary, FindsFrequentCohesiveSequencesWithFreeBoundaries) {
  // "积分卡" occurs in many contexts; "分卡" never stands alone and "我的积" is not cohesive.
  const std::vector<std::string> raw = {
      "积分卡怎么用",     "我的积分卡丢了", "积分卡能退吗", "如何办理积分卡", "积分卡过期了",
      "申请积分卡要多久", "积分卡在哪里",   "你好积分卡",   "积分卡密码忘了", "注销积分卡",
      "为什么打不开",     "今天下雨了",     "怎么退款呢",   "退款多久到账",   "我要退款"};
  std::vector<std::u32string> texts;
  for (const auto& r : raw)
    texts.push_back(Normalize(r).chars);
  VocabularyOptions o;
  o.min_count = 3;
  const std::vector<LearnedWord> words = LearnVocabulary(texts, o);
  EXPECT_TRUE(Learned(words, "积分卡"));
  EXPECT_FALSE(Learned(words, "分卡"));
  EXPECT_TRUE(Learned(words, "退款"));
  EXPECT_FALSE(Learned(words, "下雨"));  // seen once: below min_count
}

TEST(LearnVocabulary, EmptyInputLearnsNothing) {
  EXPECT_TRUE(LearnVocabulary({}).empty());
}

TEST(Lexicon, FillersAreDampedAndContentWordsAreNot) {
  Lexicon lex;
  EXPECT_LT(lex.FillerWeight(FromUtf8("请问")), 0.5);
  EXPECT_LT(lex.FillerWeight(FromUtf8("一下")), 0.5);
  EXPECT_EQ(lex.FillerWeight(FromUtf8("退款")), 1.0);
}

TEST(Lexicon, ApplySynonymsPrefersTheLongestVariant) {
  Lexicon lex;
  lex.AddSynonym(FromUtf8("人工"), FromUtf8("客服"));
  lex.AddSynonym(FromUtf8("人工服务"), FromUtf8("客服"));
  std::u32string s = FromUtf8("转人工服务");
  std::vector<uint32_t> b = {0, 3, 6, 9, 12}, e = {3, 6, 9, 12, 15};
  lex.ApplySynonyms(s, b, e);
  EXPECT_EQ(ToUtf8(s), "转客服");
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[1], 3u);
  EXPECT_EQ(e[2], 15u);
}

}  // namespace
}  // namespace kefu::knowledge
