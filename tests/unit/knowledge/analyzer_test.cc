#include "knowledge/analyzer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>

#include "knowledge/text_normalizer.h"

namespace kefu::knowledge {
namespace {

std::set<std::string> Texts(const Analysis& a, TokenKind kind) {
  std::set<std::string> out;
  for (const Token& t : a.tokens) {
    if (t.kind == kind) out.insert(t.text);
  }
  return out;
}

Analyzer Plain() {
  return Analyzer(AnalyzerOptions{}, std::make_shared<Lexicon>());
}

TEST(Analyzer, EmitsUnigramsBigramsAndIcuWords) {
  const Analysis a = Plain().Analyze("怎么还款");
  EXPECT_EQ(Texts(a, TokenKind::kUnigram), (std::set<std::string>{"怎", "么", "还", "款"}));
  std::set<std::string> multi = Texts(a, TokenKind::kBigram);
  for (const auto& w : Texts(a, TokenKind::kWord))
    multi.insert(w);
  EXPECT_TRUE(multi.contains("怎么"));
  EXPECT_TRUE(multi.contains("还款"));
  EXPECT_TRUE(multi.contains("么还"));
}

TEST(Analyzer, LexiconWordsBecomeWordTokens) {
  auto lex = std::make_shared<Lexicon>();
  lex->AddWord(FromUtf8("花呗额度"));
  Analyzer an(AnalyzerOptions{}, lex);
  const Analysis a = an.Analyze("我的花呗额度没了");
  EXPECT_TRUE(Texts(a, TokenKind::kWord).contains("花呗额度"));
}

TEST(Analyzer, SynonymsAreRewrittenToCanonical) {
  auto lex = std::make_shared<Lexicon>();
  lex->AddSynonym(FromUtf8("退钱"), FromUtf8("退款"));
  Analyzer an(AnalyzerOptions{}, lex);
  const Analysis a = an.Analyze("怎么退钱");
  EXPECT_EQ(ToUtf8(a.text), "怎么退款");
  std::set<std::string> all;
  for (const Token& t : a.tokens)
    all.insert(t.text);
  EXPECT_TRUE(all.contains("退款"));
  EXPECT_FALSE(all.contains("钱"));
}

TEST(Analyzer, EmptyAndWhitespaceGiveNoTokens) {
  EXPECT_TRUE(Plain().Analyze("").tokens.empty());
  EXPECT_TRUE(Plain().Analyze(" \t\n\u3000 ").tokens.empty());
}

TEST(Analyzer, EmojiOnlyGivesNoTokens) {
  EXPECT_TRUE(Plain().Analyze("😀😂👍🏻").tokens.empty());
}

TEST(Analyzer, LatinAndDigitsBecomeLowercaseRuns) {
  const Analysis a = Plain().Analyze("iPhone 12 ＶＩＰ");
  EXPECT_EQ(Texts(a, TokenKind::kLatin), (std::set<std::string>{"iphone", "12", "vip"}));
}

TEST(Analyzer, TraditionalAndFullWidthPunctuationMatchSimplified) {
  const Analysis t = Plain().Analyze("花唄，怎麼還款？");
  const Analysis s = Plain().Analyze("花呗,怎么还款?");
  ASSERT_EQ(t.tokens.size(), s.tokens.size());
  for (size_t i = 0; i < t.tokens.size(); ++i)
    EXPECT_EQ(t.tokens[i].text, s.tokens[i].text);
}

TEST(Analyzer, TenKilobyteInputIsTokenizedWithOffsetsInRange) {
  std::string big;
  while (big.size() < 10 * 1024)
    big += "花呗怎么还款abc ";
  const Analysis a = Plain().Analyze(big);
  EXPECT_GT(a.tokens.size(), 1000u);
  for (const Token& t : a.tokens) {
    ASSERT_LT(t.begin, t.end);
    ASSERT_LE(t.end, big.size());
  }
}

TEST(Analyzer, TokenOffsetsPointAtTheOriginalText) {
  const std::string in = "ＡＢ 还款";
  const Analysis a = Plain().Analyze(in);
  for (const Token& t : a.tokens) {
    if (t.text == "还款") {
      EXPECT_EQ(in.substr(t.begin, t.end - t.begin), "还款");
    }
    if (t.text == "ab") {
      EXPECT_EQ(in.substr(t.begin, t.end - t.begin), "ＡＢ");
    }
  }
}

TEST(Analyzer, PinyinTokensAreOptionalAndTonless) {
  AnalyzerOptions o;
  o.pinyin = true;
  Analyzer an(o, std::make_shared<Lexicon>());
  EXPECT_TRUE(Texts(an.Analyze("呗"), TokenKind::kPinyin).contains("~bei"));
  EXPECT_TRUE(Texts(Plain().Analyze("呗"), TokenKind::kPinyin).empty());
  EXPECT_EQ(PinyinOf(U'呗'), PinyinOf(U'被'));
}

}  // namespace
}  // namespace kefu::knowledge
